package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// workload is what the benchmark does once connected.
type workload struct {
	workers  int
	duration time.Duration
	// maxOps ends the run after this many operations (0: only the
	// duration ends it).
	maxOps int64
	ratio  float64 // fraction of operations that commit
	size   int     // record size in bytes
	// format writes records as the server's Python clients do.
	format record.Format
	// seed makes the workers' choices of objects and operations.
	seed uint64
	// dist is how workers pick objects: distUniform or distZipf, with
	// exponent zipfS.
	dist  string
	zipfS float64
}

// stats is what one worker measured; the workers' stats are merged at the
// end.
type stats struct {
	loads, commits         histogram
	loadBytes, storeBytes  int64
	conflicts, errs        int64
	firstErrs              []string // distinct error messages, a few
	disconnected, canceled bool
}

const maxErrMessages = 5

func (s *stats) fail(err error) {
	s.errs++
	s.note(err.Error())
}

// note keeps msg among the first distinct error messages.
func (s *stats) note(msg string) {
	for _, m := range s.firstErrs {
		if m == msg {
			return
		}
	}
	if len(s.firstErrs) < maxErrMessages {
		s.firstErrs = append(s.firstErrs, msg)
	}
}

func (s *stats) merge(o *stats) {
	s.loads.merge(&o.loads)
	s.commits.merge(&o.commits)
	s.loadBytes += o.loadBytes
	s.storeBytes += o.storeBytes
	s.conflicts += o.conflicts
	s.errs += o.errs
	for _, m := range o.firstErrs {
		s.note(m)
	}
	s.disconnected = s.disconnected || o.disconnected
}

// payloadRecord writes a ZODB record of exactly size bytes when size allows
// (a record has some 60 bytes of class and dict framing): class
// zeobench.Payload, state {'payload': bytes}, with n stamped into the first
// bytes of the payload so that every revision differs.
func payloadRecord(f record.Format, size int, n uint64) ([]byte, error) {
	payloadLen := 0
	for range 3 { // the length prefix of the payload grows with it: converge
		rec, err := encodePayload(f, payloadLen, n)
		if err != nil {
			return nil, err
		}
		if len(rec) == size || (payloadLen == 0 && len(rec) > size) {
			return rec, nil
		}
		payloadLen = max(0, payloadLen+size-len(rec))
	}
	return encodePayload(f, payloadLen, n)
}

func encodePayload(f record.Format, payloadLen int, n uint64) ([]byte, error) {
	payload := make([]byte, payloadLen)
	var stamp [8]byte
	binary.BigEndian.PutUint64(stamp[:], n)
	copy(payload, stamp[:])
	return record.EncodeObject("zeobench.Payload", pickle.DictOf("payload", pickle.Bytes(payload)), f)
}

// seed creates n objects of the workload's size, in transactions of up to
// 100 objects or 8 MiB.
func seed(ctx context.Context, c *zeo.Client, n int, w *workload) ([]zodb.OID, int, error) {
	oids, err := c.NewOIDs(ctx, n)
	if err != nil {
		return nil, 0, err
	}
	txns := 0
	for start := 0; start < n; {
		var ws []zeo.Write
		bytes := 0
		for start < n && len(ws) < 100 && (bytes == 0 || bytes+w.size <= 8<<20) {
			rec, err := payloadRecord(w.format, w.size, uint64(start))
			if err != nil {
				return nil, 0, err
			}
			ws = append(ws, zeo.Write{OID: oids[start], Data: rec})
			bytes += len(rec)
			start++
		}
		if _, err := c.Commit(ctx, zeo.TxnMeta{User: "zeobench", Description: "seed benchmark objects"}, ws...); err != nil {
			return nil, 0, err
		}
		txns++
	}
	return oids, txns, nil
}

// measure runs the workers over clients (worker i uses clients[i %
// len(clients)]) until the duration has passed, maxOps operations were
// made, ctx ends, or a connection is lost. It returns the merged stats and
// the time the run took.
func measure(ctx context.Context, clients []*zeo.Client, oids []zodb.OID, w *workload) (*stats, time.Duration) {
	runCtx, cancel := context.WithTimeout(ctx, w.duration)
	defer cancel()
	var ops atomic.Int64
	all := make([]*stats, w.workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range w.workers {
		all[i] = &stats{}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(w.seed, uint64(i)))
			work(runCtx, clients[i%len(clients)], oids, w, r, &ops, all[i])
			if all[i].disconnected {
				cancel() // the others would fail the same way
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := &stats{}
	for _, s := range all {
		total.merge(s)
	}
	total.canceled = ctx.Err() != nil
	return total, elapsed
}

// work is one worker's loop. Each turn picks an object at random (by
// w.dist), and
// either loads it or, with probability w.ratio, loads it and commits a
// new revision based on the serial it loaded, as an application would: a
// conflict means another worker committed the object in between.
func work(ctx context.Context, c *zeo.Client, oids []zodb.OID, w *workload, r *rand.Rand, ops *atomic.Int64, s *stats) {
	pick := w.picker(r, len(oids))
	for ctx.Err() == nil {
		if w.maxOps > 0 && ops.Add(1) > w.maxOps {
			return
		}
		oid := oids[pick()]
		commit := r.Float64() < w.ratio

		t0 := time.Now()
		rev, err := c.Load(ctx, oid)
		if !s.check(ctx, err) {
			if s.disconnected {
				return
			}
			continue
		}
		s.loads.record(time.Since(t0))
		s.loadBytes += int64(len(rev.Data))
		if !commit {
			continue
		}

		rec, err := payloadRecord(w.format, w.size, r.Uint64())
		if err != nil {
			s.fail(err)
			continue
		}
		t0 = time.Now()
		_, err = c.Commit(ctx, zeo.TxnMeta{User: "zeobench", Description: "benchmark commit"},
			zeo.Write{OID: oid, Serial: rev.Serial, Data: rec})
		if errors.Is(err, zeo.ErrConflict) {
			s.conflicts++
			continue
		}
		if !s.check(ctx, err) {
			if s.disconnected {
				return
			}
			continue
		}
		s.commits.record(time.Since(t0))
		s.storeBytes += int64(len(rec))
	}
}

// check counts err and reports whether the operation succeeded. A failure
// caused by the end of the run is not an error of the server's.
func (s *stats) check(ctx context.Context, err error) bool {
	if err == nil {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	s.fail(err)
	if errors.Is(err, zeo.ErrDisconnected) {
		s.disconnected = true
	}
	return false
}

// describeRecord says how large the benchmark's records are, which can
// exceed -size when it is below the framing of a record.
func describeRecord(w *workload) string {
	rec, err := payloadRecord(w.format, w.size, 0)
	if err != nil {
		return fmt.Sprintf("%d bytes", w.size)
	}
	if len(rec) != w.size {
		return fmt.Sprintf("%d bytes (the nearest a record can be to -size %d)", len(rec), w.size)
	}
	return fmt.Sprintf("%d bytes", len(rec))
}
