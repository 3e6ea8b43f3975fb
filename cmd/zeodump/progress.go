package main

import (
	"fmt"
	"io"
	"time"
)

// progress reports how far a long walk has got on stderr, at most once per
// interval, so that a dump of a big database shows it is alive without
// mixing with the records on stdout.
type progress struct {
	w        io.Writer
	interval time.Duration
	start    time.Time
	last     time.Time
	shown    bool
}

func newProgress(w io.Writer, interval time.Duration) *progress {
	now := time.Now()
	return &progress{w: w, interval: interval, start: now, last: now}
}

// tick reports the state when an interval has passed since the last report.
func (p *progress) tick(format string, args ...any) {
	if p.interval <= 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < p.interval {
		return
	}
	p.last, p.shown = now, true
	fmt.Fprintf(p.w, "zeodump: %s (%s)\n", fmt.Sprintf(format, args...), now.Sub(p.start).Round(time.Second))
}

// done reports the elapsed time if progress was shown.
func (p *progress) done() {
	if p.shown {
		fmt.Fprintf(p.w, "zeodump: done in %s\n", time.Since(p.start).Round(100*time.Millisecond))
	}
}
