package zeo

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

func ev(t uint64, oids ...uint64) Invalidation {
	e := Invalidation{TID: zodb.TIDFromUint64(t)}
	for _, o := range oids {
		e.OIDs = append(e.OIDs, zodb.OIDFromUint64(o))
	}
	return e
}

func drain(s *Subscription) []uint64 {
	var got []uint64
	for {
		select {
		case e, ok := <-s.Events():
			if !ok {
				return got
			}
			got = append(got, e.TID.Uint64())
		default:
			return got
		}
	}
}

// Events that arrive while connecting are held until the connect tid is
// known, then those at or before it are dropped (ZEO #155/#166/#209).
func TestHubQueuesUntilConnectTID(t *testing.T) {
	h := newInvalHub(16, slog.New(slog.DiscardHandler), func(TID) {})
	h.reset()
	sub := h.subscribe()
	for _, tid := range []uint64{5, 7, 9} {
		h.publish(ev(tid, 1))
	}
	if got := drain(sub); len(got) != 0 {
		t.Fatalf("delivered %v before the connect tid was known", got)
	}
	h.start(zodb.TIDFromUint64(7))
	h.publish(ev(8, 2)) // late, out of order: already covered by 9
	h.publish(ev(10, 3))
	if got := drain(sub); len(got) != 2 || got[0] != 9 || got[1] != 10 {
		t.Fatalf("delivered %v, want [9 10]", got)
	}
}

func TestHubLaggingSubscriberEnds(t *testing.T) {
	h := newInvalHub(2, slog.New(slog.DiscardHandler), func(TID) {})
	h.start(zodb.TID{})
	slow := h.subscribe()
	fast := h.subscribe()
	for tid := uint64(1); tid <= 3; tid++ {
		h.publish(ev(tid))
		if tid < 3 {
			drain(fast)
		}
	}
	got := drain(slow)
	if len(got) != 2 {
		t.Fatalf("slow subscriber got %v", got)
	}
	if _, ok := <-slow.Events(); ok {
		t.Fatal("slow subscription still open")
	}
	if !errors.Is(slow.Err(), ErrSubscriptionLagged) {
		t.Fatalf("Err = %v", slow.Err())
	}
	if got := drain(fast); len(got) != 1 || got[0] != 3 || fast.Err() != nil {
		t.Fatalf("fast subscriber got %v, err %v", got, fast.Err())
	}
}

func TestHubEndAndLateSubscribe(t *testing.T) {
	h := newInvalHub(4, slog.New(slog.DiscardHandler), func(TID) {})
	h.start(zodb.TIDFromUint64(3))
	s := h.subscribe()
	if s.Since() != zodb.TIDFromUint64(3) {
		t.Errorf("Since = %s", s.Since())
	}
	cause := errors.New("gone")
	h.end(cause)
	if _, ok := <-s.Events(); ok || s.Err() != cause {
		t.Fatalf("after end: open=%v err=%v", ok, s.Err())
	}
	late := h.subscribe()
	if _, ok := <-late.Events(); ok || late.Err() != cause {
		t.Fatalf("subscribe after end: open=%v err=%v", ok, late.Err())
	}
	s.Close() // harmless after the end
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
