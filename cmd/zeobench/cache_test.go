package main

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestCacheFlag(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int64 // zeo.Options.CacheSize
	}{
		{"off", -1},
		{"OFF", -1},
		{"-1", -1},
		{"-5MiB", -1},
		{"0", 0},
		{"default", 0},
		{"0MiB", 0},
		{"4096", 4096},
		{"+4096", 4096},
		{"100B", 100},
		{"512KiB", 512 << 10},
		{"20MiB", 20 << 20},
		{"20mib", 20 << 20},
		{"20 MiB", 20 << 20},
		{"2GiB", 2 << 30},
		{"1TiB", 1 << 40},
		{"64kB", 64e3},
		{"10MB", 10e6},
		{"1GB", 1e9},
		{"8388607TiB", 8388607 << 40},
	} {
		cfg, code := parseFlags([]string{"-profile", "z5-py3", "-cache", tc.value}, io.Discard)
		if code != 0 || cfg == nil {
			t.Errorf("-cache %q: exit %d", tc.value, code)
			continue
		}
		if cfg.opts.CacheSize != tc.want {
			t.Errorf("-cache %q: CacheSize %d, want %d", tc.value, cfg.opts.CacheSize, tc.want)
		}
	}
	cfg, _ := parseFlags([]string{"-profile", "z5-py3"}, io.Discard)
	if cfg.opts.CacheSize >= 0 {
		t.Errorf("default CacheSize %d, want off (negative)", cfg.opts.CacheSize)
	}
}

func TestCacheFlagBad(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"", "want a number of bytes"},
		{"abc", "want a number of bytes"},
		{"MiB", "want a number of bytes"},
		{"1.5GiB", "want a number of bytes"},
		{"20XB", "want a number of bytes"},
		{"0x10", "want a number of bytes"},
		{"20M", `unit "M" is ambiguous: write MB (powers of 1000) or MiB`},
		{"1k", `unit "k" is ambiguous: write KB`},
		{"8388608TiB", "too large"},
		{"99999999999999999999", "too large"},
	} {
		var stderr strings.Builder
		cfg, code := parseFlags([]string{"-profile", "z5-py3", "-cache", tc.value}, &stderr)
		if cfg != nil || code != 2 || !strings.Contains(stderr.String(), "-cache") || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("-cache %q: exit %d, stderr %q; want exit 2 and %q", tc.value, code, stderr.String(), tc.want)
		}
	}
}

// String writes what Set reads back.
func TestCacheFlagString(t *testing.T) {
	for _, n := range []cacheFlag{cacheOff, 0, 1, 1000, 1 << 10, 3 << 20, 20 << 20, 1<<30 + 1, 5 << 40} {
		var back cacheFlag
		if err := back.Set(n.String()); err != nil || back != n {
			t.Errorf("%d: String %q reads back as %d, %v", n, n.String(), back, err)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.50 KiB", 20 << 20: "20 MiB", 4133000: "3.94 MiB", 3 << 30: "3 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

var hitRatioRE = regexp.MustCompile(`(?m)^cache +hits (\d+), misses (\d+), hit ratio ([\d.]+)%, evictions (\d+)\n +(\d+) entries, \S+ \S+ of 40 MiB \(2 connection\(s\)\)$`)

// With a cache and a hot set, loads hit the cache and the report says so,
// summing the two connections' caches.
func TestBenchZipfCache(t *testing.T) {
	code, out, errOut := runBench(t, t.Context(), "-profile", "z5-py3", "-d", "10m", "-ops", "2000", "-c", "4", "-conns", "2",
		"-objects", "100", "-size", "100", "-dist", "zipf", "-cache", "20MiB")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	checkReport(t, out)
	if !strings.Contains(out, "objects picked by Zipf, s 1.10; client cache 20 MiB per connection") {
		t.Errorf("header lacks the distribution and cache:\n%s", out)
	}
	m := hitRatioRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no cache lines:\n%s", out)
	}
	hits, _ := strconv.Atoi(m[1])
	ratio, _ := strconv.ParseFloat(m[3], 64)
	entries, _ := strconv.Atoi(m[5])
	if hits == 0 || ratio <= 0 || entries == 0 {
		t.Errorf("hits %d, hit ratio %v%%, entries %d:\n%s", hits, ratio, entries, out)
	}
}

// With the cache off (the default) the report has no cache lines.
func TestBenchZipfNoCache(t *testing.T) {
	code, out, errOut := runBench(t, t.Context(), "-profile", "z5-py3", "-d", "10m", "-ops", "300", "-c", "2",
		"-objects", "50", "-size", "100", "-dist", "zipf", "-zipf-s", "1.5")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if counts := checkReport(t, out); counts["load"] != 300 {
		t.Errorf("%d loads, want 300:\n%s", counts["load"], out)
	}
	if !strings.Contains(out, "objects picked by Zipf, s 1.50; client cache off") {
		t.Errorf("header lacks the distribution and cache:\n%s", out)
	}
	if regexp.MustCompile(`(?m)^cache `).MatchString(out) {
		t.Errorf("cache lines with the cache off:\n%s", out)
	}
}
