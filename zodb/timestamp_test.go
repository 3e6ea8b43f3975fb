package zodb

import (
	"math"
	"testing"
	"time"
)

// The examples of docs/protocol.md, Data types, as persistent's TimeStamp
// computes them.
func TestTIDFromTimePyExamples(t *testing.T) {
	cases := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "03f58e0000000000"},
		{time.Date(2024, 1, 1, 12, 34, 56, 789_000_000, time.UTC), "03f590f2f24cbb52"},
	}
	for _, c := range cases {
		if got := TIDFromTime(c.at).String(); got != c.want {
			t.Errorf("TIDFromTime(%v) = %s, want %s", c.at, got, c.want)
		}
		tid, _ := ParseTID(c.want)
		if d := c.at.Sub(tid.Time()); d < 0 || d >= 14*time.Nanosecond {
			t.Errorf("%s.Time() = %v, want within one 60/2^32 s unit before %v", c.want, tid.Time(), c.at)
		}
	}
}

func TestTIDFromTimeUsesUTC(t *testing.T) {
	zone := time.FixedZone("UTC+5", 5*3600)
	local := time.Date(2024, 1, 1, 5, 0, 0, 0, zone)
	if got := TIDFromTime(local).String(); got != "03f58e0000000000" {
		t.Errorf("TIDFromTime of 05:00+05:00 = %s, want the tid of 00:00 UTC", got)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	start := time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)
	for i := 0; i < 20000; i++ {
		at := start.Add(time.Duration(i) * 7777777777 * time.Nanosecond) // ~7.8 s steps, varied ns
		tid := TIDFromTime(at)
		back := tid.Time()
		if d := at.Sub(back); d < 0 || d >= 14*time.Nanosecond {
			t.Fatalf("TIDFromTime(%v).Time() = %v: off by %v", at, back, d)
		}
		if again := TIDFromTime(back); again != tid {
			t.Fatalf("TIDFromTime(%s.Time()) = %s", tid, again)
		}
	}
}

func TestTimeOfEveryLowWordNearEdges(t *testing.T) {
	a := uint32(0x040d40e3)
	for _, b := range []uint32{0, 1, 2, 71582787, math.MaxUint32 - 1, math.MaxUint32} {
		tid := makeTID(a, b)
		if again := TIDFromTime(tid.Time()); again != tid {
			t.Errorf("round trip of %s gave %s", tid, again)
		}
	}
}

func TestTIDFromTimeRange(t *testing.T) {
	if got := TIDFromTime(time.Date(1899, 12, 31, 23, 59, 59, 0, time.UTC)); got != ZeroTID {
		t.Errorf("time before 1900 gave %s, want ZeroTID", got)
	}
	if got := TIDFromTime(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)); got != ZeroTID {
		t.Errorf("1900-01-01 gave %s, want ZeroTID", got)
	}
	if got := TIDFromTime(time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC)); got.Uint64() != math.MaxUint64 {
		t.Errorf("year 20000 gave %s, want the largest TimeStamp", got)
	}
	if got := ZeroTID.Time(); !got.Equal(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ZeroTID.Time() = %v", got)
	}
}

func TestMaxTID(t *testing.T) {
	if MaxTID.String() != "7fffffffffffffff" {
		t.Errorf("MaxTID = %s", MaxTID)
	}
	if y := MaxTID.Time().Year(); y < 5000 {
		t.Errorf("MaxTID.Time() = %v, expected far future", MaxTID.Time())
	}
}

func TestNextTIDMonotonic(t *testing.T) {
	frozen := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	prev := ZeroTID
	for i := 0; i < 1000; i++ {
		next := NextTID(prev, frozen)
		if next.Uint64() <= prev.Uint64() {
			t.Fatalf("NextTID(%s, frozen) = %s, not later", prev, next)
		}
		if i > 0 && next.Uint64() != prev.Uint64()+1 {
			t.Fatalf("with a frozen clock NextTID(%s) = %s, want prev+1", prev, next)
		}
		prev = next
	}
	// A clock that runs backwards still gives increasing tids.
	back := NextTID(prev, frozen.Add(-time.Hour))
	if back.Uint64() != prev.Uint64()+1 {
		t.Errorf("clock went back: NextTID = %s, want %s+1", back, prev)
	}
	// A clock that moves forward wins.
	later := frozen.Add(time.Second)
	if got := NextTID(prev, later); got != TIDFromTime(later) {
		t.Errorf("NextTID with a later clock = %s, want the clock's %s", got, TIDFromTime(later))
	}
}

func TestNextTIDLowWordOverflow(t *testing.T) {
	cases := []struct{ prev, want time.Time }{
		// Plain minute carry.
		{time.Date(2024, 1, 1, 12, 34, 0, 0, time.UTC), time.Date(2024, 1, 1, 12, 35, 0, 0, time.UTC)},
		// End of a 30-day month goes to the 1st, not to a 31st.
		{time.Date(2024, 4, 30, 23, 59, 0, 0, time.UTC), time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		// Leap February and end of year.
		{time.Date(2024, 2, 29, 23, 59, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2023, 12, 31, 23, 59, 0, 0, time.UTC), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		a, _ := TIDFromTime(c.prev).words()
		prev := makeTID(a, math.MaxUint32)
		got := NextTID(prev, c.prev)
		if want := TIDFromTime(c.want); got != want {
			t.Errorf("NextTID(%s) = %s (%s), want %s (%s)", prev, got, got.TimeString(), want, want.TimeString())
		}
	}
	end := TIDFromUint64(math.MaxUint64)
	if got := NextTID(end, time.Now()); got != end {
		t.Errorf("NextTID at the end of the range = %s, want it unchanged", got)
	}
}

func TestTimeString(t *testing.T) {
	tid, _ := ParseTID("03f590f2f24cbb52")
	if got := tid.TimeString(); got != "2024-01-01 12:34:56.789000" {
		t.Errorf("TimeString() = %q", got)
	}
	if got := tid.ReadableRepr(); got != "0x03f590f2f24cbb52 2024-01-01 12:34:56.789000" {
		t.Errorf("ReadableRepr() = %q", got)
	}
}

func FuzzTIDTime(f *testing.F) {
	f.Add(uint64(0x03f590f2f24cbb52))
	f.Add(uint64(0))
	f.Add(uint64(math.MaxUint64))
	f.Fuzz(func(t *testing.T, v uint64) {
		tid := TIDFromUint64(v)
		at := tid.Time() // must not panic on any input
		_ = tid.TimeString()
		_ = tid.UnixSeconds()
		a, _ := tid.words()
		_, month, day, _, _ := fields(a)
		if at.Day() == day && at.Month() == month { // a date the calendar has
			if again := TIDFromTime(at); again != tid {
				t.Fatalf("round trip of %s gave %s", tid, again)
			}
		}
		if next := NextTID(tid, at); v != math.MaxUint64 && next.Uint64() <= v {
			t.Fatalf("NextTID(%s) = %s, not later", tid, next)
		}
	})
}
