package zeo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// TestConsistencyUnderRestarts is the randomized check of the cache and
// the subscriptions: writers commit through the test server while readers
// with caches load, the server restarts and connections are cut at random
// moments, and afterwards every read and every subscription is checked
// against the storage's own history (cross-checked with what the writers
// saw committed):
//
//   - no read returns a revision that was already invalidated when the
//     read began, as far as the reading client knew (its LastTID then);
//   - no committed transaction is missing from any subscription: each is
//     delivered as itself, inside a catch-up, or covered by a reset.
//
// GOZEO_CONSISTENCY_ROUNDS sets the number of restarts (default 4, a few
// seconds); GOZEO_CONSISTENCY_SEED the first seed.
func TestConsistencyUnderRestarts(t *testing.T) {
	rounds := envInt(t, "GOZEO_CONSISTENCY_ROUNDS", 4)
	seed := uint64(envInt(t, "GOZEO_CONSISTENCY_SEED", 1))
	for _, profile := range []string{"z5-py3", "z3101-py27", "z308-py27"} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			runConsistency(t, profile, rounds, seed)
		})
	}
}

func envInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// readRecord is one read a reader made, for checking afterwards.
type readRecord struct {
	oid    zodb.OID
	known  zeo.TID // the reader's LastTID when the read began
	before zeo.TID // zero for Load, the bound for LoadBefore
	rev    zeo.Revision
	hit    bool // served from the cache
}

type readerLog struct {
	reads  []readRecord
	events []zeo.Invalidation
	since  zeo.TID
	client *bytes.Buffer // the client's own log (Info and above), shown on failure
	mu     sync.Mutex
}

func (l *readerLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.client.Write(p)
}

func runConsistency(t *testing.T, profile string, rounds int, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	const objects, writers, readers = 12, 3, 3
	srv := testserver.Start(t, testserver.Options{Profile: profile, InvalidationQueueSize: 6})
	init := map[zodb.OID][]byte{}
	var oids []zodb.OID
	for i := range objects {
		o := zodb.OIDFromUint64(uint64(0x100 + i))
		oids = append(oids, o)
		init[o] = fmt.Appendf(nil, "init %d", i)
	}
	if _, err := srv.Store().SeedMany(ctx, init); err != nil {
		t.Fatal(err)
	}
	fast := zeo.ReconnectPolicy{MinDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}

	// Writers record what they saw committed, and what they could not
	// tell.
	var mu sync.Mutex
	committed := map[zeo.TID][]byte{}
	uncertain := 0
	stop, stopReaders := make(chan struct{}), make(chan struct{})
	var wg, readersWG sync.WaitGroup
	for w := range writers {
		c := dialT(t, srv.Addr(), &zeo.Options{Reconnect: fast, CacheSize: 64 << 10})
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				o := oids[rng.IntN(len(oids))]
				rev, err := c.Load(ctx, o)
				if err != nil {
					continue // a reconnect in the way
				}
				data := fmt.Appendf(nil, "w%d n%d", w, n)
				tid, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: o, Serial: rev.Serial, Data: data})
				var cu *zeo.CommitOutcomeUnknownError
				switch {
				case err == nil:
				case errors.As(err, &cu):
					out, rerr := cu.Resolve(ctx)
					if rerr != nil || out.Outcome == zeo.OutcomeUnknown {
						mu.Lock()
						uncertain++
						mu.Unlock()
						continue
					}
					if out.Outcome == zeo.OutcomeNotCommitted {
						continue
					}
					tid = out.TID
				default:
					continue // conflicts, lost transactions: nothing committed
				}
				mu.Lock()
				committed[tid] = data
				mu.Unlock()
			}
		})
	}

	logs := make([]*readerLog, readers)
	nets := make([]*netCtl, readers)
	for r := range readers {
		nets[r] = &netCtl{}
		lg := &readerLog{client: new(bytes.Buffer)}
		logs[r] = lg
		c := dialT(t, srv.Addr(), &zeo.Options{Reconnect: fast, DialContext: nets[r].dial, CacheSize: 4 << 10,
			Logger: slog.New(slog.NewTextHandler(lg, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		sub := c.Subscribe()
		lg.since = sub.Since()
		readersWG.Go(func() {
			for ev := range sub.Events() {
				lg.events = append(lg.events, ev)
			}
		})
		readersWG.Go(func() {
			defer sub.Close()
			rng := rand.New(rand.NewPCG(seed, uint64(100+r)))
			for {
				select {
				case <-stopReaders:
					// The writers are done: catch up with the last commit
					// before stopping.
					last := srv.Store().LastTransaction()
					for c.LastTID().Compare(last) < 0 && ctx.Err() == nil {
						time.Sleep(time.Millisecond)
					}
					return
				default:
				}
				time.Sleep(50 * time.Microsecond) // leave the writers some CPU
				o := oids[rng.IntN(len(oids))]
				known := c.LastTID()
				rec := readRecord{oid: o, known: known}
				var err error
				hits := c.CacheStats().Hits
				if rng.IntN(4) == 0 {
					rec.before = zodb.TIDFromUint64(known.Uint64() + 1)
					rec.rev, err = c.LoadBefore(ctx, o, rec.before)
				} else {
					rec.rev, err = c.Load(ctx, o)
				}
				if err == nil {
					rec.hit = c.CacheStats().Hits > hits
					lg.reads = append(lg.reads, rec)
				}
			}
		})
	}

	rng := rand.New(rand.NewPCG(seed, 999))
	for range rounds {
		time.Sleep(time.Duration(20+rng.IntN(80)) * time.Millisecond)
		if rng.IntN(3) == 0 {
			nets[rng.IntN(readers)].cut() // one reader's network fails
			continue
		}
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(stopReaders)
	readersWG.Wait()

	// The storage's history is the oracle; what the writers saw must be in
	// it.
	history := map[zodb.OID][]zodb.TID{} // serials in order
	dataAt := map[zeo.TID]map[zodb.OID][]byte{}
	txnOIDs := map[zeo.TID][]zodb.OID{}
	var tids []zeo.TID
	for _, txn := range srv.Store().Transactions() {
		tids = append(tids, txn.TID)
		dataAt[txn.TID] = map[zodb.OID][]byte{}
		for _, r := range txn.Records {
			history[r.OID] = append(history[r.OID], txn.TID)
			dataAt[txn.TID][r.OID] = r.Data
			txnOIDs[txn.TID] = append(txnOIDs[txn.TID], r.OID)
		}
	}
	for tid, data := range committed {
		var found bool
		for _, d := range dataAt[tid] {
			found = found || bytes.Equal(d, data)
		}
		if !found {
			t.Errorf("a writer saw %s committed with %q, which the storage does not have", tid, data)
		}
	}
	writerTxns := len(tids) - 1 // the seed
	if len(committed)+uncertain < writerTxns {
		t.Errorf("the storage has %d writer transactions, the writers saw %d committed and %d uncertain", writerTxns, len(committed), uncertain)
	}

	var reads, events int
	for r, lg := range logs {
		reads += len(lg.reads)
		events += len(lg.events)
		for _, rd := range lg.reads {
			if t.Failed() {
				break
			}
			h := history[rd.oid]
			// The revision the storage had as of what the reader knew.
			i := slices.IndexFunc(h, func(s zodb.TID) bool { return s == rd.rev.Serial })
			if i < 0 {
				t.Errorf("reader %d: %s read at serial %s, which the storage never wrote", r, rd.oid, rd.rev.Serial)
				continue
			}
			if !bytes.Equal(dataAt[rd.rev.Serial][rd.oid], rd.rev.Data) {
				t.Errorf("reader %d: %s at %s has data %q, the storage %q", r, rd.oid, rd.rev.Serial, rd.rev.Data, dataAt[rd.rev.Serial][rd.oid])
			}
			bound := rd.known
			if rd.before != (zeo.TID{}) {
				bound = zodb.TIDFromUint64(rd.before.Uint64() - 1)
			}
			if i+1 < len(h) && h[i+1].Compare(bound) <= 0 {
				t.Errorf("reader %d: stale read of %s (LoadBefore %s; zero: Load; cache hit %v): got serial %s (next %s), but %s had replaced it and the reader knew of %s when the read began", r, rd.oid, rd.before, rd.hit, rd.rev.Serial, rd.rev.Next, h[i+1], rd.known)
			}
		}
		checkEvents(t, r, lg, tids, txnOIDs)
		if t.Failed() {
			t.Logf("reader %d's client log:\n%s", r, lg.client)
			return
		}
	}
	t.Logf("%s: %d restarts or cuts, %d transactions (%d uncertain), %d reads checked, %d events checked", profile, rounds, writerTxns, uncertain, reads, events)
	if reads == 0 || writerTxns == 0 {
		t.Error("the run did nothing")
	}
}

// checkEvents checks one subscription against the committed
// transactions: strictly increasing tids, and every transaction after
// Since delivered as itself, inside a catch-up, or covered by a reset.
func checkEvents(t *testing.T, r int, lg *readerLog, tids []zeo.TID, txnOIDs map[zeo.TID][]zodb.OID) {
	t.Helper()
	for i := 1; i < len(lg.events); i++ {
		if lg.events[i].TID.Compare(lg.events[i-1].TID) <= 0 {
			t.Errorf("reader %d: event tids not increasing: %s after %s", r, lg.events[i].TID, lg.events[i-1].TID)
			return
		}
	}
	for _, tid := range tids {
		if tid.Compare(lg.since) <= 0 {
			continue
		}
		j := slices.IndexFunc(lg.events, func(ev zeo.Invalidation) bool { return ev.TID.Compare(tid) >= 0 })
		if j < 0 {
			t.Errorf("reader %d: transaction %s never delivered (%d events, the last %v)", r, tid, len(lg.events), lg.events[len(lg.events)-1])
			return
		}
		ev := lg.events[j]
		if ev.Reset {
			continue
		}
		if ev.TID != tid && !ev.Catchup {
			t.Errorf("reader %d: transaction %s missing: the next event is %s, not a catch-up", r, tid, ev.TID)
			return
		}
		for _, o := range txnOIDs[tid] {
			if !slices.Contains(ev.OIDs, o) {
				t.Errorf("reader %d: transaction %s changed %s, which event %+v leaves out", r, tid, o, ev)
				return
			}
		}
	}
}
