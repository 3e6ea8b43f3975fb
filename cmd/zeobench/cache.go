package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/gozeo/gozeo/zeo"
)

// cacheFlag is -cache: the [zeo.Options.CacheSize] it asks for, with that
// field's meaning (0: the client's default, negative: off). Off is kept
// as -1.
type cacheFlag int64

const cacheOff cacheFlag = -1

// String writes the size back in a form Set accepts: "off", "default",
// or bytes with the largest binary unit that divides them.
func (f *cacheFlag) String() string {
	switch n := int64(*f); {
	case n < 0:
		return "off"
	case n == 0:
		return "default"
	default:
		for _, u := range []struct {
			name string
			size int64
		}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
			if n%u.size == 0 {
				return strconv.FormatInt(n/u.size, 10) + u.name
			}
		}
		return strconv.FormatInt(n, 10)
	}
}

// Set parses a size: "off" or a negative number, "default" or 0, or a
// whole number of bytes with an optional unit, binary (KiB, MiB, GiB,
// TiB) or decimal (kB, MB, GB, TB), case-insensitive.
func (f *cacheFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f = cacheFlag(max(n, -1))
	return nil
}

// sizeUnits are the units parseSize accepts, lower-cased.
var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
}

var (
	errSizeSyntax = errors.New("want a number of bytes with an optional unit (512KiB, 20MiB, 1GB), off, or default")
	errSizeRange  = errors.New("size too large")
)

// parseSize parses the value of -cache (see cacheFlag.Set); off gives -1.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "off":
		return -1, nil
	case "default":
		return 0, nil
	}
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errSizeRange
		}
		return 0, errSizeSyntax
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	switch {
	case !ok && len(unit) == 1 && strings.Contains("kmgtKMGT", unit):
		u := strings.ToUpper(unit)
		return 0, fmt.Errorf("unit %q is ambiguous: write %sB (powers of 1000) or %siB (powers of 1024)", unit, u, u)
	case !ok:
		return 0, errSizeSyntax
	case n > math.MaxInt64/mult || n < math.MinInt64/mult:
		return 0, errSizeRange
	}
	return n * mult, nil
}

// formatBytes writes n bytes for people: B below 1 KiB, then KiB, MiB, GiB
// or TiB with up to three significant digits.
func formatBytes(n int64) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n), ""
	for _, unit = range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1 << 10
		if v < 1<<10 {
			break
		}
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return sig3(v) + " " + unit
}

// cacheSummary is what the client caches did during a run, summed over
// the benchmark's connections: Hits, Misses and Evictions count the run
// only; Entries, Bytes and Limit are as the run ended.
type cacheSummary struct {
	zeo.CacheStats
	conns int
}

// cacheTotals sums the clients' cache statistics.
func cacheTotals(clients []*zeo.Client) zeo.CacheStats {
	var t zeo.CacheStats
	for _, c := range clients {
		s := c.CacheStats()
		t.Hits += s.Hits
		t.Misses += s.Misses
		t.Evictions += s.Evictions
		t.Bytes += s.Bytes
		t.Limit += s.Limit
		t.Entries += s.Entries
	}
	return t
}

// summarizeCache returns the caches' figures between before and after
// (cacheTotals of the same clients), or nil when the caches are off.
func summarizeCache(before, after zeo.CacheStats, conns int) *cacheSummary {
	if after.Limit <= 0 {
		return nil
	}
	s := &cacheSummary{CacheStats: after, conns: conns}
	s.Hits -= before.Hits
	s.Misses -= before.Misses
	s.Evictions -= before.Evictions
	return s
}

// reportCache prints the cache lines of the report.
func reportCache(w io.Writer, c *cacheSummary) {
	ratio := "-"
	if lookups := c.Hits + c.Misses; lookups > 0 {
		ratio = strconv.FormatFloat(100*float64(c.Hits)/float64(lookups), 'f', 1, 64) + "%"
	}
	fmt.Fprintf(w, "cache     hits %d, misses %d, hit ratio %s, evictions %d\n", c.Hits, c.Misses, ratio, c.Evictions)
	fmt.Fprintf(w, "          %d entries, %s of %s (%d connection(s))\n\n", c.Entries, formatBytes(c.Bytes), formatBytes(c.Limit), c.conns)
}

// describeCache says, for the header, what the client cache is set to.
func describeCache(limit int64) string {
	if limit <= 0 {
		return "client cache off (every load goes to the server)"
	}
	return "client cache " + formatBytes(limit) + " per connection"
}
