package zeoweb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gozeo/gozeo/zeo"
)

// liveData is the live feed page; the feed itself comes from /events.
type liveData struct {
	V     view
	Since string
}

func (s *Server) livePage(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	return "live", liveData{V: v, Since: s.client.LastTID().String()}, nil
}

// feedEvent is one server-sent event of the live feed, as JSON. The page's
// script puts every string into the page as text (textContent), never as
// markup.
type feedEvent struct {
	Kind    string    `json:"kind"` // "hello", "commit", "status", "ended"
	TID     string    `json:"tid,omitempty"`
	Time    string    `json:"time,omitempty"`
	Href    string    `json:"href,omitempty"`
	OIDs    []feedOID `json:"oids,omitempty"`
	More    int       `json:"more,omitempty"`
	Local   bool      `json:"local,omitempty"`
	Catchup bool      `json:"catchup,omitempty"`
	Reset   bool      `json:"reset,omitempty"`
	Status  string    `json:"status,omitempty"`
	Server  string    `json:"server,omitempty"`
	Message string    `json:"message,omitempty"`
}

type feedOID struct {
	OID  string `json:"oid"`
	Href string `json:"href"`
}

// keepAlive is how often an idle feed sends a comment, so that proxies
// and the browser keep the stream open.
const keepAlive = 20 * time.Second

// events streams the live feed: every transaction the client's
// subscription delivers (a catch-up or reset after a reconnect marked as
// such), and the connection's status changes. When the subscription
// ends (it lagged, or the client closed) the stream says why and ends;
// the browser's EventSource then opens a new one.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	v := view{}
	sub := s.client.Subscribe()
	defer sub.Close()
	status := s.status.subscribe()
	defer s.status.unsubscribe(status)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(ev feedEvent) bool {
		b, err := json.Marshal(ev)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	if !send(feedEvent{Kind: "hello", TID: sub.Since().String(), Status: s.client.Status().String(), Server: s.client.Addr()}) {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-sub.Events():
			if !ok {
				msg := "the subscription ended"
				if err := sub.Err(); err != nil {
					msg = err.Error()
					if errors.Is(err, zeo.ErrSubscriptionLagged) {
						msg = "the feed fell behind and restarts: some transactions were not shown"
					}
				}
				send(feedEvent{Kind: "ended", Message: msg})
				return
			}
			if !send(commitEvent(v, ev)) {
				return
			}
		case st := <-status:
			fe := feedEvent{Kind: "status", Status: st.Status.String(), Server: st.Server}
			if st.Err != nil {
				fe.Message = st.Err.Error()
			}
			if !send(fe) {
				return
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

// commitEvent describes an invalidation; the links show the objects as
// of the transaction.
func commitEvent(v view, ev zeo.Invalidation) feedEvent {
	tid := ev.TID.String()
	fe := feedEvent{Kind: "commit", TID: tid, Time: ev.TID.Time().UTC().Format("2006-01-02 15:04:05.000000 MST"),
		Href: v.URL("/txns", "at", tid), Local: ev.Local, Catchup: ev.Catchup, Reset: ev.Reset}
	for i, oid := range ev.OIDs {
		if i == maxOIDsPerTxn {
			fe.More = len(ev.OIDs) - i
			break
		}
		fe.OIDs = append(fe.OIDs, feedOID{OID: oid.Repr(), Href: v.URL("/obj/"+oid.String(), "at", tid)})
	}
	return fe
}
