package zodb

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// tid_vectors.tsv holds tids with the times real ZODB servers printed for
// them (testdata/gen_tids.py extracts them from the capture logs copied into
// testdata/captured_tids.log).
func TestCapturedTimeStamps(t *testing.T) {
	f, err := os.Open("testdata/tid_vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var nstr, ntime int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		tid, err := ParseTID(cols[1])
		if err != nil {
			t.Fatalf("bad vector %q: %v", line, err)
		}
		switch cols[0] {
		case "str":
			nstr++
			if got := tid.TimeString(); got != cols[2] {
				t.Errorf("%s.TimeString() = %q, server printed %q", tid, got, cols[2])
			}
			unix, _ := strconv.ParseFloat(cols[3], 64)
			got := float64(tid.Time().UnixNano()) / 1e9
			if math.Abs(got-unix) > 1e-6 {
				t.Errorf("%s.Time() = %v (%.6f), the calendar says %.6f", tid, tid.Time(), got, unix)
			}
			if again := TIDFromTime(tid.Time()); again != tid {
				t.Errorf("TIDFromTime(%s.Time()) = %s", tid, again)
			}
		case "timeTime":
			ntime++
			want, _ := strconv.ParseFloat(cols[2], 64)
			if got := tid.UnixSeconds(); got != want {
				t.Errorf("%s.UnixSeconds() = %v, server's timeTime() = %v", tid, strconv.FormatFloat(got, 'g', -1, 64), cols[2])
			}
		default:
			t.Fatalf("unknown vector kind in %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if nstr < 10 || ntime < 8 {
		t.Fatalf("only %d str and %d timeTime vectors read", nstr, ntime)
	}
}
