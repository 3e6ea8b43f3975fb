package testserver

import (
	"sync"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/zodb"
)

// invalidationQueueSize is ZEO's default invalidation-queue-size.
const invalidationQueueSize = 100

// invalidationQueue is a ZEO server's invq, what getInvalidations answers
// from: the recent transactions, oldest first and at most size of them
// (the server's invalidation-queue-size), each with the objects the server
// announced for it. Servers fill it where they broadcast
// invalidateTransaction, so it holds the same lists: ZEO ≤ 4 leave out
// the transactions that invalidated nothing, ZEO 5 queues every one. A
// starting server loads it from the storage instead (fill).
type invalidationQueue struct {
	// size bounds the entries (Options.InvalidationQueueSize); 0 means
	// invalidationQueueSize. Set before the queue is used.
	size    int
	mu      sync.Mutex
	entries []invqEntry
}

type invqEntry struct {
	tid  zodb.TID
	objs []invalidated
}

// push appends a committed transaction, dropping the oldest entry when the
// queue is full.
func (q *invalidationQueue) push(tid zodb.TID, objs []invalidated) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.entries) - q.limit() + 1; n > 0 {
		q.entries = append(q.entries[:0:0], q.entries[n:]...)
	}
	q.entries = append(q.entries, invqEntry{tid: tid, objs: objs})
}

// fill replaces the queue with what a server starting on st loads:
// FileStorage.lastInvalidations, the last size transactions with every
// object they wrote (new ones too, whatever the generation). An empty
// storage gives an empty queue. Entries pushed for commits newer than the
// history read are kept, so a commit racing with a restart is not lost.
func (q *invalidationQueue) fill(st *store.Store) {
	q.mu.Lock()
	defer q.mu.Unlock()
	txns := st.Transactions()
	txns = txns[max(0, len(txns)-q.limit()):]
	entries := make([]invqEntry, 0, len(txns))
	last := zodb.ZeroTID
	for _, t := range txns {
		objs := make([]invalidated, len(t.Records))
		for i, r := range t.Records {
			objs[i] = invalidated{oid: r.OID}
		}
		entries = append(entries, invqEntry{tid: t.TID, objs: objs})
		last = t.TID
	}
	for _, e := range q.entries {
		if e.tid.Compare(last) > 0 {
			entries = append(entries, e)
		}
	}
	q.entries = entries[max(0, len(entries)-q.limit()):]
}

// limit is the queue's size: at most this many entries.
func (q *invalidationQueue) limit() int {
	if q.size > 0 {
		return q.size
	}
	return invalidationQueueSize
}

// since is StorageServer.get_invalidations: ok is false (the reply None:
// verify the cache another way) when the queue is empty or its oldest
// entry is later than tid; otherwise latest is the newest queued tid and
// objs the objects of the entries after tid, each once. A tid later than
// every entry gets the newest tid and no objects. keepUndone keeps an
// object undone apart from the same object stored, as ZODB 3.8's queue of
// (oid, version) pairs does (version "" and None).
func (q *invalidationQueue) since(tid zodb.TID, keepUndone bool) (latest zodb.TID, objs []invalidated, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.entries) == 0 || q.entries[0].tid.Compare(tid) > 0 {
		return zodb.ZeroTID, nil, false
	}
	seen := make(map[invalidated]bool)
	objs = []invalidated{}
	for i := len(q.entries) - 1; i >= 0 && q.entries[i].tid.Compare(tid) > 0; i-- {
		for _, x := range q.entries[i].objs {
			key := x
			if !keepUndone {
				key.undone = false
			}
			if !seen[key] {
				seen[key] = true
				objs = append(objs, x)
			}
		}
	}
	return q.entries[len(q.entries)-1].tid, objs, true
}
