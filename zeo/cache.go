package zeo

import (
	"sync"
	"sync/atomic"
)

// cache is the client's in-memory object cache: ZEO's ClientCache, MVCC
// like it. It holds current revisions until an invalidation ends them,
// and non-current revisions with the [serial, next) range LoadBefore gave
// them. Memory is bounded in bytes (data plus a fixed per-entry overhead);
// eviction is S3-FIFO (see evict).
//
// Correctness under races rests on two rules:
//   - Current revisions are served only while the cache is live: connected
//     and caught up with what changed while it was not. Non-current ones
//     are facts about the past and are served at any time.
//   - A load reply is kept as current only if no invalidation of its oid
//     (and no reset) reached the read goroutine after the request was
//     registered with beginLoad. Invalidations are applied on the read
//     goroutine in wire order, so this is decided by the order of the
//     messages, never by timing (ZEO#155, #166, #209 and ZODB#290 were
//     this race).
//
// A nil *cache is a disabled cache: every lookup misses and every update
// is dropped.
type cache struct {
	mu      sync.RWMutex
	limit   int64 // bytes
	bytes   int64
	entries int
	objects map[OID]*cachedObject
	small   entryQueue // S3-FIFO's probation queue: new entries
	main    entryQueue // entries that were hit while in small, or came back from the ghost
	ghost   ghostQueue // oids recently evicted from small

	// tid is the transaction the cache is current as of: current entries
	// are the objects' revisions at tid and after, until invalidated.
	tid  TID
	live bool

	// Invalidation bookkeeping for loads in flight (beginLoad/endLoad):
	// seq counts invalidation events; inflight records, per oid with
	// loads in flight, the seq of its last invalidation; resetSeq is the
	// seq of the last reset, which taints every load in flight.
	seq      uint64
	resetSeq uint64
	inflight map[OID]*inflightLoads

	hits, misses, evictions atomic.Uint64
}

type cachedObject struct {
	cur *cacheEntry   // current revision, or nil
	old []*cacheEntry // non-current revisions
}

type cacheEntry struct {
	oid    OID
	serial TID
	next   TID // zero while current
	data   []byte
	freq   atomic.Uint32 // hits since it entered its queue, capped at maxFreq
	inMain bool
	prev   *cacheEntry // towards the queue's head (newest)
	after  *cacheEntry // towards the queue's tail (oldest)
}

type inflightLoads struct {
	refs          int
	invalidatedAt uint64
}

const (
	// entryOverhead is what one entry costs besides its data: the entry,
	// its share of the object and its map slot. It is counted against the
	// limit so that many small records cannot exceed it unseen
	// (BenchmarkCacheEntryOverhead measures the real figure).
	entryOverhead = 160
	maxFreq       = 3
	// smallShare is the part of the limit S3-FIFO gives its probation
	// queue: one in ten bytes.
	smallShare = 10
)

// newCache returns a cache of limit bytes, or nil (disabled) for a limit
// ≤ 0.
func newCache(limit int64) *cache {
	if limit <= 0 {
		return nil
	}
	return &cache{
		limit:    limit,
		objects:  make(map[OID]*cachedObject),
		inflight: make(map[OID]*inflightLoads),
		ghost:    newGhostQueue(int(min(max(limit/1024, 256), 1<<20))),
	}
}

// current returns the cached current revision of oid. It allocates
// nothing: the data is shared with the cache.
func (c *cache) current(oid OID) (Revision, bool) {
	if c == nil {
		return Revision{}, false
	}
	c.mu.RLock()
	var e *cacheEntry
	if c.live {
		if o := c.objects[oid]; o != nil {
			e = o.cur
		}
	}
	if e == nil {
		c.mu.RUnlock()
		c.misses.Add(1)
		return Revision{}, false
	}
	e.touch()
	rev := Revision{Data: e.data, Serial: e.serial}
	c.mu.RUnlock()
	c.hits.Add(1)
	return rev, true
}

// before returns the cached revision of oid that LoadBefore(oid, before)
// would: Serial < before, and either replaced at Next ≥ before or current
// with the cache knowing every transaction before before.
func (c *cache) before(oid OID, before TID) (Revision, bool) {
	if c == nil {
		return Revision{}, false
	}
	b := before.Uint64()
	c.mu.RLock()
	var found *cacheEntry
	if o := c.objects[oid]; o != nil {
		for _, e := range o.old {
			if e.serial.Uint64() < b && b <= e.next.Uint64() {
				found = e
				break
			}
		}
		if found == nil && c.live && o.cur != nil && o.cur.serial.Uint64() < b && b-1 <= c.tid.Uint64() {
			found = o.cur
		}
	}
	if found == nil {
		c.mu.RUnlock()
		c.misses.Add(1)
		return Revision{}, false
	}
	found.touch()
	rev := Revision{Data: found.data, Serial: found.serial, Next: found.next}
	c.mu.RUnlock()
	c.hits.Add(1)
	return rev, true
}

func (e *cacheEntry) touch() {
	for {
		f := e.freq.Load()
		if f >= maxFreq || e.freq.CompareAndSwap(f, f+1) {
			return
		}
	}
}

// beginLoad registers a load of oid about to be sent; the token it
// returns goes to endLoad with the reply.
func (c *cache) beginLoad(oid OID) uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.inflight[oid]
	if f == nil {
		f = &inflightLoads{}
		c.inflight[oid] = f
	}
	f.refs++
	return c.seq
}

// endLoad ends the load registered with token. When the load succeeded
// (ok) it caches rev: as current if rev.Next is zero and nothing
// invalidated oid since beginLoad, as non-current otherwise.
func (c *cache) endLoad(oid OID, token uint64, rev Revision, ok bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.inflight[oid]
	tainted := c.resetSeq > token
	if f != nil {
		tainted = tainted || f.invalidatedAt > token
		if f.refs--; f.refs <= 0 {
			delete(c.inflight, oid)
		}
	}
	if !ok {
		return
	}
	if rev.Next != (TID{}) {
		c.insertOld(oid, rev)
		return
	}
	if !tainted {
		c.insertCurrent(oid, rev)
	}
}

// invalidate records that transaction tid changed oids: their current
// revisions become non-current, ending at tid. It runs on the read
// goroutine, in wire order.
func (c *cache) invalidate(tid TID, oids []OID) { c.applyInvalidation(tid, oids, true) }

// invalidateUnion applies a catch-up: oids changed somewhere after the
// cache's tid, up to tid. Unlike a live invalidation it does not say
// which transaction replaced each revision, so the revisions go instead of
// becoming non-current ones with a range that could be wrong.
func (c *cache) invalidateUnion(tid TID, oids []OID) { c.applyInvalidation(tid, oids, false) }

// applyInvalidation taints the loads of oids in flight and ends their
// current revisions: at tid when tid is known to be each one's end
// (exact), by dropping them otherwise.
func (c *cache) applyInvalidation(tid TID, oids []OID, exact bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	for _, oid := range oids {
		if f := c.inflight[oid]; f != nil {
			f.invalidatedAt = c.seq
		}
		o := c.objects[oid]
		if o == nil || o.cur == nil {
			continue
		}
		e := o.cur
		// A revision not older than the transaction said to replace it,
		// or held from before an outage whose changes are not yet known
		// (a catch-up in progress), need not end at tid: it goes.
		if !exact || !c.live || e.serial.Compare(tid) >= 0 {
			c.removeLocked(e, o)
			continue
		}
		o.cur = nil
		e.next = tid
		o.old = append(o.old, e)
	}
	if tid.Compare(c.tid) > 0 {
		c.tid = tid
	}
}

// taintInflight makes every load in flight uncacheable as current, for
// cache verification: a reply read before it began but cached after it
// would have escaped it.
func (c *cache) taintInflight() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.resetSeq = c.seq
}

// reset drops every current revision: what changed is unknown. The
// non-current ones stay true.
func (c *cache) reset(tid TID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	c.resetSeq = c.seq
	for _, o := range c.objects {
		if o.cur != nil {
			c.removeLocked(o.cur, o)
		}
	}
	c.tid = tid
}

// setLive switches serving current revisions on (caught up as of tid) or
// off (disconnected).
func (c *cache) setLive(live bool, tid TID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = live
	if live && tid.Compare(c.tid) > 0 {
		c.tid = tid
	}
}

// currentSerials lists the cached current revisions, for cache
// verification.
func (c *cache) currentSerials() []Object {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Object, 0, len(c.objects))
	for oid, o := range c.objects {
		if o.cur != nil {
			out = append(out, Object{OID: oid, Revision: Revision{Serial: o.cur.serial}})
		}
	}
	return out
}

// lastTID is the tid the cache is current as of.
func (c *cache) lastTID() TID {
	if c == nil {
		return TID{}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tid
}

func (c *cache) insertCurrent(oid OID, rev Revision) {
	o := c.objects[oid]
	if o != nil && o.cur != nil {
		if o.cur.serial == rev.Serial {
			return
		}
		c.removeLocked(o.cur, o)
	}
	if e := c.newEntry(oid, rev); e != nil {
		o = c.objects[oid] // removeLocked may have dropped it
		if o == nil {
			o = &cachedObject{}
			c.objects[oid] = o
		}
		o.cur = e
		c.evictLocked()
	}
}

func (c *cache) insertOld(oid OID, rev Revision) {
	o := c.objects[oid]
	if o != nil {
		for _, e := range o.old {
			if e.serial == rev.Serial {
				return
			}
		}
	}
	if e := c.newEntry(oid, rev); e != nil {
		if o == nil {
			o = &cachedObject{}
			c.objects[oid] = o
		}
		o.old = append(o.old, e)
		c.evictLocked()
	}
}

// newEntry makes an entry and queues it, or returns nil for a record too
// big to be worth caching (more than half the limit).
func (c *cache) newEntry(oid OID, rev Revision) *cacheEntry {
	size := entrySize(len(rev.Data))
	if size > c.limit/2 {
		return nil
	}
	e := &cacheEntry{oid: oid, serial: rev.Serial, next: rev.Next, data: rev.Data}
	if c.ghost.take(oid) {
		e.inMain = true
		c.main.pushHead(e, size)
	} else {
		c.small.pushHead(e, size)
	}
	c.bytes += size
	c.entries++
	return e
}

func entrySize(n int) int64 { return int64(n) + entryOverhead }

// removeLocked unlinks e from its queue and its object, dropping the
// object once it holds nothing.
func (c *cache) removeLocked(e *cacheEntry, o *cachedObject) {
	size := entrySize(len(e.data))
	if e.inMain {
		c.main.remove(e, size)
	} else {
		c.small.remove(e, size)
	}
	c.bytes -= size
	c.entries--
	if o.cur == e {
		o.cur = nil
	} else {
		for i, x := range o.old {
			if x == e {
				o.old = append(o.old[:i], o.old[i+1:]...)
				break
			}
		}
	}
	if o.cur == nil && len(o.old) == 0 {
		delete(c.objects, e.oid)
	}
}

// evictLocked is S3-FIFO (Yang et al., SOSP 2023). New entries go to the
// small queue; an entry leaving it that was hit meanwhile moves to the main
// queue, one that was not is dropped and its oid remembered in the ghost
// queue, so that it goes straight to main if it comes back soon. The main
// queue is a CLOCK: an entry reaching its tail with hits left is
// reinserted with one hit fewer. A scan (an iteration touching each
// object once) thus passes through small without displacing the hot set
// in main, and a hit only bumps a counter: no list moves, no allocation,
// and a read lock is enough, unlike LRU, 2Q or ARC.
func (c *cache) evictLocked() {
	for c.bytes > c.limit {
		var e *cacheEntry
		if c.small.bytes > c.limit/smallShare || c.main.head == nil {
			e = c.small.tail
			if e == nil {
				return
			}
			size := entrySize(len(e.data))
			if e.freq.Load() > 0 {
				c.small.remove(e, size)
				e.freq.Store(0)
				e.inMain = true
				c.main.pushHead(e, size)
				continue
			}
			c.ghost.add(e.oid)
		} else {
			e = c.main.tail
			if f := e.freq.Load(); f > 0 {
				size := entrySize(len(e.data))
				c.main.remove(e, size)
				e.freq.Store(f - 1)
				c.main.pushHead(e, size)
				continue
			}
		}
		c.removeLocked(e, c.objects[e.oid])
		c.evictions.Add(1)
	}
}

// CacheStats describes the client cache.
type CacheStats struct {
	// Hits and Misses count lookups (Load, and LoadBefore or LoadMany
	// through them); Evictions counts entries dropped to stay within the
	// limit.
	Hits, Misses, Evictions uint64
	// Bytes is what the entries use, counted as their data plus a fixed
	// overhead each; Limit is Options.CacheSize (0: the cache is off).
	Bytes, Limit int64
	// Entries is the number of revisions held, current and not.
	Entries int
}

// stats returns the counters.
func (c *cache) stats() CacheStats {
	if c == nil {
		return CacheStats{}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return CacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load(),
		Bytes: c.bytes, Limit: c.limit, Entries: c.entries,
	}
}

// entryQueue is an intrusive FIFO of entries: pushed at the head, taken
// from the tail.
type entryQueue struct {
	head, tail *cacheEntry
	bytes      int64
}

func (q *entryQueue) pushHead(e *cacheEntry, size int64) {
	e.prev, e.after = nil, q.head
	if q.head != nil {
		q.head.prev = e
	} else {
		q.tail = e
	}
	q.head = e
	q.bytes += size
}

func (q *entryQueue) remove(e *cacheEntry, size int64) {
	if e.prev != nil {
		e.prev.after = e.after
	} else {
		q.head = e.after
	}
	if e.after != nil {
		e.after.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.after = nil, nil
	q.bytes -= size
}

// ghostQueue remembers the last n oids evicted from the small queue, in a
// ring, with a count per oid for the lookup.
type ghostQueue struct {
	ring  []OID
	next  int
	full  bool
	count map[OID]int
}

func newGhostQueue(n int) ghostQueue {
	return ghostQueue{ring: make([]OID, n), count: make(map[OID]int)}
}

func (g *ghostQueue) add(oid OID) {
	if g.full {
		old := g.ring[g.next]
		if g.count[old]--; g.count[old] <= 0 {
			delete(g.count, old)
		}
	}
	g.ring[g.next] = oid
	g.count[oid]++
	g.next++
	if g.next == len(g.ring) {
		g.next, g.full = 0, true
	}
}

// take reports whether oid was evicted recently. It stays in the ring
// until overwritten, but no longer counts.
func (g *ghostQueue) take(oid OID) bool {
	if g.count[oid] == 0 {
		return false
	}
	delete(g.count, oid)
	return true
}
