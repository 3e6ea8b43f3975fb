package zeo

import (
	"context"
	"sync"

	"github.com/gozeo/gozeo/pickle"
)

// oidBatch is how many oids one new_oids call asks for: the most any
// server hands out per call (capped at 100 since the 2009 security
// releases).
const oidBatch = 100

// oidPool hands out new oids, fetching them from the server in batches.
// One fetch runs at a time; callers arriving meanwhile wait for it.
type oidPool struct {
	c     *Client
	mu    sync.Mutex
	free  []OID
	fetch chan struct{} // held (1 token) while a fetch runs
	once  sync.Once
}

// NewOID returns one new, never-used oid.
func (c *Client) NewOID(ctx context.Context) (OID, error) {
	oids, err := c.NewOIDs(ctx, 1)
	if err != nil {
		return OID{}, err
	}
	return oids[0], nil
}

// NewOIDs returns n new oids, taking them from a pool the client refills
// from the server 100 at a time (new_oids). Oids are unique across every
// client of the storage; ones taken and not used are simply skipped.
func (c *Client) NewOIDs(ctx context.Context, n int) ([]OID, error) {
	if n <= 0 {
		return nil, nil
	}
	method, err := c.require(OpNewOIDs)
	if err != nil {
		return nil, err
	}
	p := &c.oids
	p.once.Do(func() { p.fetch = make(chan struct{}, 1) })
	out := make([]OID, 0, n)
	for {
		p.mu.Lock()
		k := min(n-len(out), len(p.free))
		out = append(out, p.free[:k]...)
		p.free = p.free[k:]
		p.mu.Unlock()
		if len(out) == n {
			return out, nil
		}
		if err := p.refill(ctx, method); err != nil {
			// Put back what we took so it is not lost to later callers.
			p.mu.Lock()
			p.free = append(out, p.free...)
			p.mu.Unlock()
			return nil, err
		}
	}
}

// refill fetches one batch, unless another caller is already doing so, in
// which case it waits for that fetch.
func (p *oidPool) refill(ctx context.Context, method string) error {
	select {
	case p.fetch <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.fetch }()
	p.mu.Lock()
	have := len(p.free)
	p.mu.Unlock()
	if have > 0 { // filled while we waited
		return nil
	}
	v, err := p.c.call(ctx, op{method: method}, int64(oidBatch))
	if err != nil {
		return err
	}
	items, ok := pickle.AsTuple(v)
	if !ok || len(items) == 0 {
		return p.c.shape(method, "a non-empty list of oids", v)
	}
	batch := make([]OID, 0, len(items))
	for _, it := range items {
		oid, ok := asOID(it)
		if !ok {
			return p.c.shape(method, "a list of 8-byte oids", v)
		}
		batch = append(batch, oid)
	}
	p.mu.Lock()
	p.free = append(p.free, batch...)
	p.mu.Unlock()
	return nil
}
