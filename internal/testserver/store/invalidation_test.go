package store

import (
	"slices"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

func TestSubscribe(t *testing.T) {
	st := newStore(t, Options{})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	base := commit(t, a, write{oid(1), zodb.ZeroTID, "old"})

	var events []Commit
	readDuringCallback := make(chan string, 1)
	unsubscribe := st.Subscribe(func(c Commit) {
		events = append(events, c)
		if len(events) == 1 {
			// A reader that starts once the commit is announced waits for
			// it to be visible. (The pause gives a reader that would not
			// wait the time to read the old state.)
			go func() {
				d, _, _ := st.Load(oid(1))
				readDuringCallback <- string(d)
			}()
			time.Sleep(20 * time.Millisecond)
		}
	})
	tid := commit(t, a, write{oid(1), base, "new"}, write{oid(2), zodb.ZeroTID, "created"})
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1", len(events))
	}
	ev := events[0]
	if ev.TID != tid || ev.Origin != a || !slices.Equal(ev.OIDs, []zodb.OID{oid(1), oid(2)}) || !slices.Equal(ev.Created, []zodb.OID{oid(2)}) {
		t.Errorf("event = %+v", ev)
	}
	if ev.Origin == b {
		t.Error("event names the wrong session")
	}
	if got := <-readDuringCallback; got != "new" {
		t.Errorf("a read started during the callback saw %q: after an announcement, readers must wait for the new state", got)
	}
	// Undo oids are invalidations too; Seed has no origin.
	res, err := undo(t, b, tid)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[1].Origin != b || events[1].TID != res.TID || len(events[1].OIDs) != 2 || len(events[1].Created) != 0 {
		t.Errorf("undo event = %+v", events[1])
	}
	_, _ = st.Seed(t.Context(), oid(3), []byte("s"))
	if len(events) != 3 || events[2].Origin != nil {
		t.Errorf("seed event = %+v", events[len(events)-1])
	}
	unsubscribe()
	commit(t, a, write{oid(9), zodb.ZeroTID, "x"})
	if len(events) != 3 {
		t.Errorf("unsubscribed callback still called")
	}
}
