package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// blobWorkload is -blob: per size, rounds blobs stored (StoreBlob and
// the commit), each downloaded into an empty blob cache (LoadBlob), and
// as many plain Loads of a record of the same size, for comparison.
type blobWorkload struct {
	sizes  blobSizes
	rounds int
}

// blobSizes is the -blob flag: sizes with units, comma-separated.
type blobSizes []int64

func (s *blobSizes) String() string {
	parts := make([]string, len(*s))
	for i, n := range *s {
		parts[i] = formatBytes(n)
	}
	return strings.Join(parts, ",")
}

func (s *blobSizes) Set(v string) error {
	*s = nil
	for part := range strings.SplitSeq(v, ",") {
		n, err := parseSize(strings.TrimSpace(part))
		if err != nil {
			return err
		}
		if n <= 0 || n > maxDataset {
			return fmt.Errorf("blob size %q out of range (1 byte to %d GiB)", part, maxDataset>>30)
		}
		*s = append(*s, n)
	}
	return nil
}

// blobFigures are one size's measurements.
type blobFigures struct {
	store, load, record  time.Duration
	stored, loaded, reps int
}

// runBlobs runs the blob workload and prints its figures.
func runBlobs(ctx context.Context, cfg *config, stdout, stderr io.Writer) int {
	dir, err := os.MkdirTemp("", "zeobench-blobs-*")
	if err != nil {
		fmt.Fprintln(stderr, "zeobench:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	opts := *cfg.opts
	opts.BlobDir = dir
	dctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	c, err := zeo.Dial(dctx, cfg.addr, &opts)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "zeobench: cannot talk to %s\n  %v\n", cfg.addr, err)
		return 1
	}
	defer c.Close()
	s := c.Session()
	fmt.Fprintf(stdout, "zeobench: blob workload on %s, protocol %s (%s), %d round(s) per size\n\n", s.Server, s.Negotiated, s.Encoding, cfg.blobs.rounds)
	fmt.Fprintf(stdout, "%10s  %14s  %14s  %14s\n", "size", "StoreBlob MB/s", "LoadBlob MB/s", "Load MB/s")
	for _, size := range cfg.blobs.sizes {
		f, err := measureBlobs(ctx, c, size, cfg.blobs.rounds)
		if err != nil {
			fmt.Fprintf(stderr, "zeobench: %s blobs: %v\n", formatBytes(size), err)
			return 1
		}
		fmt.Fprintf(stdout, "%10s  %14s  %14s  %14s\n", formatBytes(size),
			mbps(size, f.stored, f.store), mbps(size, f.loaded, f.load), mbps(size, f.reps, f.record))
	}
	fmt.Fprintln(stdout, "\nStoreBlob: the blob sent in 59000-byte chunks and committed; LoadBlob: downloaded\ninto an empty blob cache; Load: a plain record of the same size, in one message.")
	return 0
}

// measureBlobs stores and loads rounds blobs of size bytes, then loads a
// record of that size as often.
func measureBlobs(ctx context.Context, c *zeo.Client, size int64, rounds int) (blobFigures, error) {
	var f blobFigures
	type stored struct {
		oid zodb.OID
		tid zodb.TID
	}
	var blobs []stored
	for i := range rounds {
		oid, err := c.NewOID(ctx)
		if err != nil {
			return f, err
		}
		data := io.LimitReader(rand.NewChaCha8([32]byte{byte(i)}), size)
		t0 := time.Now()
		tid, err := commitBlob(ctx, c, oid, data)
		if err != nil {
			return f, err
		}
		f.store += time.Since(t0)
		f.stored++
		blobs = append(blobs, stored{oid, tid})
	}
	cache := c.BlobCache()
	for _, b := range blobs {
		// Committing left the blob in the cache: drop it, so that the load
		// downloads.
		os.Remove(cache.Path(b.oid, b.tid))
		t0 := time.Now()
		blob, err := c.LoadBlob(ctx, b.oid, b.tid)
		if err != nil {
			return f, err
		}
		f.load += time.Since(t0)
		f.loaded++
		blob.Close()
		os.Remove(blob.Path)
	}
	// The record: one message of the same size (capped by what a frame
	// may hold).
	if size <= 256<<20 {
		oid, err := c.NewOID(ctx)
		if err != nil {
			return f, err
		}
		data := make([]byte, size)
		if _, err := c.Commit(ctx, zeo.TxnMeta{User: "zeobench"}, zeo.Write{OID: oid, Data: data}); err != nil {
			return f, err
		}
		for range rounds {
			t0 := time.Now()
			if _, err := c.Load(ctx, oid); err != nil {
				return f, err
			}
			f.record += time.Since(t0)
			f.reps++
		}
	}
	return f, nil
}

func commitBlob(ctx context.Context, c *zeo.Client, oid zodb.OID, data io.Reader) (zodb.TID, error) {
	tx, err := c.Begin(ctx, zeo.TxnMeta{User: "zeobench", Description: "blob workload"})
	if err != nil {
		return zodb.TID{}, err
	}
	defer tx.Abort(context.WithoutCancel(ctx))
	if err := tx.StoreBlob(ctx, oid, zodb.TID{}, data); err != nil {
		return zodb.TID{}, err
	}
	return tx.Finish(ctx)
}

// mbps is n transfers of size bytes in d, in MB/s (10^6 bytes).
func mbps(size int64, n int, d time.Duration) string {
	if n == 0 || d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(size)*float64(n)/d.Seconds()/1e6)
}
