package main

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// report prints the figures of a run: a row per operation with its count,
// rate, throughput and latency percentiles, then what the client caches
// did (unless cache is nil: they were off), conflicts and errors.
func report(w io.Writer, s *stats, elapsed time.Duration, cache *cacheSummary) {
	secs := elapsed.Seconds()
	rate := func(n float64) string {
		if secs <= 0 {
			return "-"
		}
		return strconv.FormatFloat(n/secs, 'f', 1, 64)
	}
	fmt.Fprintf(w, "measured for %s\n\n", elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "%-8s %9s %10s %9s %9s %9s %9s %9s\n", "op", "count", "ops/s", "MB/s", "p50", "p90", "p99", "max")
	row := func(name string, h *histogram, bytes int64) {
		fmt.Fprintf(w, "%-8s %9d %10s %9s %9s %9s %9s %9s\n", name, h.n, rate(float64(h.n)), rate(float64(bytes)/1e6),
			latency(h, 0.50), latency(h, 0.90), latency(h, 0.99), latency(h, 1))
	}
	row("load", &s.loads, s.loadBytes)
	row("commit", &s.commits, s.storeBytes)
	n := s.loads.n + s.commits.n
	fmt.Fprintf(w, "%-8s %9d %10s %9s\n\n", "all", n, rate(float64(n)), rate(float64(s.loadBytes+s.storeBytes)/1e6))
	if cache != nil {
		reportCache(w, cache)
	}

	attempts := s.commits.n + uint64(s.conflicts)
	if attempts > 0 {
		fmt.Fprintf(w, "conflicts %d (%.1f%% of commit attempts)\n", s.conflicts, 100*float64(s.conflicts)/float64(attempts))
	} else {
		fmt.Fprintf(w, "conflicts 0\n")
	}
	fmt.Fprintf(w, "errors    %d\n", s.errs)
	for _, m := range s.firstErrs {
		fmt.Fprintf(w, "  %s\n", m)
	}
}

// latency formats a percentile with three significant digits, "-" when
// nothing was measured.
func latency(h *histogram, q float64) string {
	if h.n == 0 {
		return "-"
	}
	var d time.Duration
	if q >= 1 {
		d = h.max
	} else {
		d = h.percentile(q)
	}
	return formatDuration(d)
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	default:
		return sig3(d.Seconds()) + "s"
	}
}

// sig3 formats v (1 ≤ v < 1000, or more for seconds) with three
// significant digits: 1.23, 12.3, 123.
func sig3(v float64) string {
	switch {
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}
