package store

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// stepClock returns a fixed start time advanced by step on every call.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

var t0 = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// newStore returns a store whose clock starts at t0 and moves one second per
// commit, so tids are predictable.
func newStore(t *testing.T, opts Options) *Store {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = (&stepClock{now: t0, step: time.Second}).Now
	}
	return New(opts)
}

func oid(n uint64) zodb.OID { return zodb.OIDFromUint64(n) }

type write struct {
	oid    zodb.OID
	serial zodb.TID
	data   string
}

// commit runs a whole transaction of stores on s and fails the test on error.
func commit(t *testing.T, s *Session, writes ...write) zodb.TID {
	t.Helper()
	tid, err := tryCommit(s, writes...)
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	return tid
}

func tryCommit(s *Session, writes ...write) (zodb.TID, error) {
	id := new(int) // a fresh comparable id per transaction
	if err := s.TpcBegin(id, TxnMeta{User: "tester", Description: "commit"}); err != nil {
		return zodb.ZeroTID, err
	}
	for _, w := range writes {
		if err := s.Store(id, w.oid, w.serial, []byte(w.data)); err != nil {
			return zodb.ZeroTID, err
		}
	}
	if _, err := s.Vote(context.Background(), id); err != nil {
		s.Abort(id)
		return zodb.ZeroTID, err
	}
	return s.Finish(id)
}

func mustLoad(t *testing.T, st *Store, o zodb.OID) (string, zodb.TID) {
	t.Helper()
	data, tid, err := st.Load(o)
	if err != nil {
		t.Fatalf("Load(%s): %v", o, err)
	}
	return string(data), tid
}

// waitQueued blocks until n voters wait for the commit lock. It polls a
// condition, it does not time anything: a broken lock makes the test hang
// until go test's timeout, never pass.
func waitQueued(st *Store, n int) {
	for {
		st.mu.RLock()
		q := len(st.lock.queue)
		st.mu.RUnlock()
		if q == n {
			return
		}
		runtime.Gosched()
	}
}

type voteOutcome struct {
	res *VoteResult
	err error
}

// voteAsync starts a vote in a goroutine and returns where its outcome lands.
func voteAsync(ctx context.Context, s *Session, id any) <-chan voteOutcome {
	ch := make(chan voteOutcome, 1)
	go func() {
		res, err := s.Vote(ctx, id)
		ch <- voteOutcome{res, err}
	}()
	return ch
}

func assertPending(t *testing.T, ch <-chan voteOutcome, what string) {
	t.Helper()
	select {
	case out := <-ch:
		t.Fatalf("%s returned (%v, %v) while another transaction holds the commit lock", what, out.res, out.err)
	default:
	}
}
