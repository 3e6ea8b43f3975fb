package zeoweb

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// feed reads the live feed's events.
type feed struct {
	t      *testing.T
	events chan feedEvent
}

func openFeed(t *testing.T, base string) *feed {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	f := &feed{t: t, events: make(chan feedEvent, 100)}
	go func() {
		defer res.Body.Close()
		defer close(f.events)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev feedEvent
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Errorf("event %q: %v", data, err)
				return
			}
			f.events <- ev
		}
	}()
	return f
}

// next waits for an event that match accepts, skipping others.
func (f *feed) next(what string, match func(feedEvent) bool) feedEvent {
	f.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-f.events:
			if !ok {
				f.t.Fatalf("the feed ended waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			f.t.Fatalf("no %s in the feed", what)
		}
	}
}

// A commit appears in the live feed with its changed objects; a restart
// of the server shows as the connection lost and back.
func TestLiveFeed(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	ts := httptest.NewServer(f.web)
	t.Cleanup(ts.Close)
	fd := openFeed(t, ts.URL)
	fd.next("hello", func(ev feedEvent) bool { return ev.Kind == "hello" })

	tid, err := f.demo.Visit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ev := fd.next("the commit", func(ev feedEvent) bool { return ev.Kind == "commit" })
	if ev.TID != tid.String() || len(ev.OIDs) != 1 || ev.OIDs[0].OID != f.demo.Settings.Repr() ||
		ev.OIDs[0].Href != "/obj/"+f.demo.Settings.String()+"?at="+tid.String() {
		t.Errorf("commit event %+v, want tid %s changing %s", ev, tid, f.demo.Settings.Repr())
	}

	if err := f.demo.Server.Restart(); err != nil {
		t.Fatal(err)
	}
	fd.next("the lost connection", func(ev feedEvent) bool { return ev.Kind == "status" && ev.Status == "reconnecting" })
	fd.next("the connection back", func(ev feedEvent) bool { return ev.Kind == "status" && ev.Status == "connected" })
	var tid2 = tid
	for tid2 == tid { // the writer may need a moment to reconnect too
		if tid2, err = f.demo.Visit(t.Context()); err != nil {
			time.Sleep(50 * time.Millisecond)
			tid2 = tid
		}
	}
	fd.next("the commit after the restart", func(ev feedEvent) bool { return ev.Kind == "commit" && ev.TID == tid2.String() })
}

// The event stream's JSON escapes markup, and the page's script only
// sets text: a hostile string in an event cannot become markup.
func TestFeedEventEscapes(t *testing.T) {
	b, _ := json.Marshal(feedEvent{Kind: "status", Message: "<script>alert(1)</script>"})
	if strings.Contains(string(b), "<") {
		t.Errorf("event JSON %s holds raw markup", b)
	}
	js, err := staticFiles.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}
