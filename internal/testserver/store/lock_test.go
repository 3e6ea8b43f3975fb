package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

func TestSecondVoteWaitsForFinish(t *testing.T) {
	st := newStore(t, Options{})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	_ = a.TpcBegin("a", TxnMeta{})
	_ = a.Store("a", oid(1), zodb.ZeroTID, []byte("from a"))
	resA, err := a.Vote(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	_ = b.TpcBegin("b", TxnMeta{})
	_ = b.Store("b", oid(2), zodb.ZeroTID, []byte("from b"))
	bDone := voteAsync(t.Context(), b, "b")
	waitQueued(st, 1)
	assertPending(t, bDone, "b's vote")

	tidA, _ := a.Finish("a")
	out := <-bDone
	if out.err != nil {
		t.Fatalf("b's vote after a finished: %v", out.err)
	}
	if out.res.TID.Compare(tidA) <= 0 || tidA != resA.TID {
		t.Errorf("b's tid %s is not after a's %s", out.res.TID, tidA)
	}
	if _, err := b.Finish("b"); err != nil {
		t.Fatal(err)
	}
}

func TestVotersAreServedInArrivalOrder(t *testing.T) {
	st := newStore(t, Options{})
	holder := st.NewSession(SessionOptions{})
	_ = holder.TpcBegin("h", TxnMeta{})
	if _, err := holder.Vote(t.Context(), "h"); err != nil {
		t.Fatal(err)
	}
	var sessions []*Session
	var outs []<-chan voteOutcome
	for i := range 3 {
		s := st.NewSession(SessionOptions{})
		id := fmt.Sprint("w", i)
		_ = s.TpcBegin(id, TxnMeta{})
		sessions = append(sessions, s)
		outs = append(outs, voteAsync(t.Context(), s, id))
		waitQueued(st, i+1) // fix the arrival order
	}
	holder.Abort("h") // abort releases the lock too
	for i := range 3 {
		out := <-outs[i]
		if out.err != nil {
			t.Fatalf("voter %d: %v", i, out.err)
		}
		for j := i + 1; j < 3; j++ {
			assertPending(t, outs[j], fmt.Sprint("voter ", j))
		}
		if _, err := sessions[i].Finish(fmt.Sprint("w", i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFailedVoteHoldsLockUntilAbort(t *testing.T) {
	st := newStore(t, Options{})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	base := commit(t, a, write{oid(1), zodb.ZeroTID, "v1"})
	commit(t, a, write{oid(1), base, "v2"})

	_ = a.TpcBegin("stale", TxnMeta{})
	_ = a.Store("stale", oid(1), base, []byte("v3"))
	_, err := a.Vote(t.Context(), "stale")
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("vote: %v", err)
	}
	// Voting again repeats the failure.
	if _, again := a.Vote(t.Context(), "stale"); !errors.As(again, &ce) {
		t.Errorf("second vote of a failed transaction: %v", again)
	}
	_ = b.TpcBegin("b", TxnMeta{})
	bDone := voteAsync(t.Context(), b, "b")
	waitQueued(st, 1)
	assertPending(t, bDone, "b's vote")
	a.Abort("stale")
	if out := <-bDone; out.err != nil {
		t.Fatalf("b's vote after a aborted: %v", out.err)
	}
	b.Abort("b")
}

func TestVoteGivesUpWithContext(t *testing.T) {
	st := newStore(t, Options{})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	_ = a.TpcBegin("a", TxnMeta{})
	if _, err := a.Vote(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	_ = b.TpcBegin("b", TxnMeta{})
	_ = b.Store("b", oid(5), zodb.ZeroTID, []byte("b"))
	ctx, cancel := context.WithCancel(t.Context())
	bDone := voteAsync(ctx, b, "b")
	waitQueued(st, 1)
	cancel()
	out := <-bDone
	if !errors.Is(out.err, context.Canceled) {
		t.Fatalf("cancelled vote: %v", out.err)
	}
	waitQueued(st, 0)
	// The transaction is still open: after a finishes, b can vote again.
	_, _ = a.Finish("a")
	if _, err := b.Vote(t.Context(), "b"); err != nil {
		t.Fatalf("vote after a cancelled wait: %v", err)
	}
	if _, err := b.Finish("b"); err != nil {
		t.Fatal(err)
	}
	if data, _ := mustLoad(t, st, oid(5)); data != "b" {
		t.Errorf("b's data = %q", data)
	}
}

func TestAbortWakesWaitingVote(t *testing.T) {
	st := newStore(t, Options{})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	_ = a.TpcBegin("a", TxnMeta{})
	if _, err := a.Vote(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	_ = b.TpcBegin("b", TxnMeta{})
	bDone := voteAsync(t.Context(), b, "b")
	waitQueued(st, 1)
	if !b.Abort("b") {
		t.Fatal("Abort of a waiting transaction did nothing")
	}
	out := <-bDone
	var ste *StorageTransactionError
	if !errors.As(out.err, &ste) {
		t.Fatalf("vote of an aborted transaction: %v", out.err)
	}
	waitQueued(st, 0)
	// a still holds the lock and can finish; then the lock is free.
	if _, err := a.Finish("a"); err != nil {
		t.Fatal(err)
	}
	commit(t, b)
}

func TestPackWaitsForCommitLock(t *testing.T) {
	st := newStore(t, Options{})
	a := st.NewSession(SessionOptions{})
	_ = a.TpcBegin("a", TxnMeta{})
	if _, err := a.Vote(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	packed := make(chan error, 1)
	go func() { packed <- st.Pack(t.Context(), t0.Add(365*24*3600e9)) }()
	waitQueued(st, 1)
	select {
	case err := <-packed:
		t.Fatalf("Pack returned (%v) while a transaction held the commit lock", err)
	default:
	}
	_, _ = a.Finish("a")
	if err := <-packed; err != nil {
		t.Fatal(err)
	}
}

// Many sessions increment counters concurrently, retrying on conflicts: no
// update may be lost and the race detector must stay quiet.
func TestConcurrentCommits(t *testing.T) {
	st := newStore(t, Options{})
	for k := range 3 {
		if _, err := st.Seed(t.Context(), oid(uint64(k)), []byte{0}); err != nil {
			t.Fatal(err)
		}
	}
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := st.NewSession(SessionOptions{})
			defer s.Close()
			for r := range rounds {
				o := oid(uint64((w + r) % 3))
				for {
					data, tid, err := st.Load(o)
					if err != nil {
						errs <- err
						return
					}
					_, err = tryCommit(s, write{o, tid, string([]byte{data[0] + 1})})
					var ce *ConflictError
					if errors.As(err, &ce) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for k := range 3 {
		data, _ := mustLoad(t, st, oid(uint64(k)))
		total += int(data[0])
	}
	if total != workers*rounds {
		t.Errorf("counters sum to %d, want %d: updates were lost", total, workers*rounds)
	}
}
