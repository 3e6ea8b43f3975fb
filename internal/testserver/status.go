package testserver

import (
	"sync/atomic"

	"github.com/gozeo/gozeo/pickle"
)

// stats are ZEO's per-storage StorageStats counters, reported by
// server_status and the ruok probe.
type stats struct {
	loads, stores, commits, aborts  atomic.Int64
	activeTxns, conflicts, resolved atomic.Int64
	waiting                         atomic.Int64 // votes waiting for the commit lock
}

// statusItems returns the server_status fields in ZEO's order.
func (s *Server) statusItems() []attr {
	st := &s.stats
	return []attr{
		{"connections", int64(len(s.registered()))},
		{"loads", st.loads.Load()},
		{"stores", st.stores.Load()},
		{"commits", st.commits.Load()},
		{"aborts", st.aborts.Load()},
		{"active_txns", st.activeTxns.Load()},
		{"lock_time", pickle.None},
		{"conflicts", st.conflicts.Load()},
		{"conflicts_resolved", st.resolved.Load()},
		{"start", s.start.Format("Mon Jan _2 15:04:05 2006")},
		{"waiting", st.waiting.Load()},
		{"timeout-thread-is-alive", "stub"},
		{"last-transaction", s.store.LastTransaction().String()},
	}
}

// statusDict is server_status() as a dict.
func (s *Server) statusDict() *pickle.Dict {
	items := s.statusItems()
	d := pickle.NewDict(len(items))
	for _, it := range items {
		d.Set(it.Key, it.Value) //nolint:errcheck // string keys
	}
	return d
}

// statusJSON is the same for the ruok probe's JSON.
func (s *Server) statusJSON() map[string]any {
	m := make(map[string]any)
	for _, it := range s.statusItems() {
		if pickle.IsNone(it.Value) {
			m[it.Key] = nil
			continue
		}
		m[it.Key] = it.Value
	}
	return m
}
