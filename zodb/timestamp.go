package zodb

import (
	"fmt"
	"math"
	"time"
)

// The TimeStamp layout (persistent/timestamp.py, docs/protocol.md, Data types):
//
//	high word A = ((((year-1900)*12 + month-1)*31 + day-1)*24 + hour)*60 + minute   (UTC)
//	low word  B = floor(seconds * 2^32 / 60)
//
// One unit of B is 60/2^32 s ≈ 13.97 ns = 29296875/2^21 ns exactly, which
// lets the conversions below stay in exact integer arithmetic.
const (
	baseYear       = 1900
	minutesPerDay  = 24 * 60
	minutesPerMon  = 31 * minutesPerDay // every month has 31 days in A
	minutesPerYear = 12 * minutesPerMon
	nsPerTickNum   = 29296875 // ns per B unit = nsPerTickNum / 2^nsPerTickShift
	nsPerTickShift = 21
)

// secondsPerTick is 60/2^32, exactly representable as a float64 (15·2⁻³⁰);
// it is the C implementation's TS_SECOND_BYTES_BIAS.
const secondsPerTick = 60.0 / (1 << 32)

// maxTimeStamp is what TIDFromTime returns for times past the last minute
// the high word can count (year 9917).
var maxTimeStamp = TIDFromUint64(math.MaxUint64)

func (t TID) words() (a, b uint32) {
	v := t.Uint64()
	return uint32(v >> 32), uint32(v)
}

func makeTID(a, b uint32) TID { return TIDFromUint64(uint64(a)<<32 | uint64(b)) }

// fields splits the high word into calendar fields. The day may exceed the
// month's real length (A counts 31-day months); time.Date normalizes that.
func fields(a uint32) (year int, month time.Month, day, hour, minute int) {
	minute = int(a % 60)
	hour = int(a / 60 % 24)
	day = int(a/minutesPerDay%31) + 1
	month = time.Month(a/minutesPerMon%12) + 1
	year = int(a/minutesPerYear) + baseYear
	return
}

// TIDFromTime returns the TimeStamp of t (converted to UTC), the tid a ZODB
// storage would give a transaction committed at that instant: the low word is
// the position within the minute, rounded down to the 60/2³² s unit.
//
// Times before 1900-01-01 UTC give ZeroTID and times from year 9918 on give
// 0xffffffffffffffff, the ends of the representable range.
func TIDFromTime(t time.Time) TID {
	t = t.UTC()
	year := t.Year()
	if year < baseYear {
		return ZeroTID
	}
	a := uint64(year-baseYear)*12 + uint64(t.Month()-1)
	a = a*31 + uint64(t.Day()-1)
	a = a*24 + uint64(t.Hour())
	a = a*60 + uint64(t.Minute())
	if a > math.MaxUint32 {
		return maxTimeStamp
	}
	ns := uint64(t.Second())*uint64(time.Second) + uint64(t.Nanosecond())
	// ns < 6e10 < 2^36, so ns<<21 cannot overflow.
	b := ns << nsPerTickShift / nsPerTickNum
	return makeTID(uint32(a), uint32(b))
}

// Time returns the instant t encodes, in UTC. Sub-nanosecond remainders are
// rounded up, so TIDFromTime(t.Time()) == t for every TID whose day field is
// valid for its month (those a clock can produce). Fields the 31-day month
// layout allows but the calendar does not (e.g. February 30) are normalized
// the way time.Date does.
func (t TID) Time() time.Time {
	a, b := t.words()
	year, month, day, hour, minute := fields(a)
	// b*nsPerTickNum < 2^32 * 2^25: fits in 64 bits.
	ns := (uint64(b)*nsPerTickNum + (1<<nsPerTickShift - 1)) >> nsPerTickShift
	return time.Date(year, month, day, hour, minute, 0, int(ns), time.UTC)
}

// Seconds returns the seconds within the minute as persistent's
// TimeStamp.second() computes them: B·60/2³², which is exact in a float64.
func (t TID) Seconds() float64 {
	_, b := t.words()
	return float64(b) * secondsPerTick
}

// TimeString formats t the way str(TimeStamp) does in Python, and so the way
// ZODB's error messages print serials: "2026-11-25 13:23:16.829399" (UTC,
// seconds rounded to microseconds). The fields are printed as encoded, even a
// day the month does not have.
func (t TID) TimeString() string {
	a, _ := t.words()
	year, month, day, hour, minute := fields(a)
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%09.6f", year, int(month), day, hour, minute, t.Seconds())
}

// UnixSeconds returns the Unix time of t as a float64 computed the way the C
// implementation of persistent's TimeStamp.timeTime() does (the float ZODB
// storages put in history and undoLog entries under "time"), so the result
// matches a real server's bit for bit.
func (t TID) UnixSeconds() float64 {
	a, _ := t.words()
	year, month, day, hour, minute := fields(a)
	// The C code measures from its own origin (see daysFromOrigin), adds the
	// seconds, then subtracts the origin's distance to 1970. Keeping that
	// order and those magnitudes reproduces its rounding exactly.
	abs := float64((daysFromOrigin(year, int(month)-1)+int64(day-1))*86400 + int64(hour*60+minute)*60)
	// The explicit conversions stop the compiler from fusing these into one
	// multiply-add, which would round differently than C does.
	sum := float64(abs + t.Seconds())
	return float64(sum - unixOriginSeconds)
}

// unixOriginSeconds is 1970-01-01 00:00 UTC measured the way UnixSeconds
// measures: the C implementation's gmoff.
var unixOriginSeconds = float64(daysFromOrigin(1970, 0) * 86400)

// daysFromOrigin counts days the way persistent's C helpers _yad and joff do:
// days before January 1st of year relative to an origin a year before 1900
// (the exact origin only matters because it sets the float magnitudes), plus
// the days of the months before month (0-based).
func daysFromOrigin(year, month0 int) int64 {
	y := int64(year - baseYear)
	d := (y - 1) * 365
	if y > 0 {
		y--
		d += y/4 - y/100 + (y+300)/400
	} else {
		y = -y
		d -= y/4 - y/100 + (y+300)/400
	}
	return d + int64(daysBeforeMonth(year, month0))
}

func daysBeforeMonth(year, month0 int) int {
	leap := year%4 == 0 && (year%100 != 0 || year%400 == 0)
	days := 0
	for m := 0; m < month0; m++ {
		days += daysIn(time.Month(m+1), leap)
	}
	return days
}

func daysIn(m time.Month, leap bool) int {
	switch m {
	case time.February:
		if leap {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// NextTID returns the tid for a transaction committing at now after prev was
// the last one: now's TimeStamp if it is later than prev, otherwise the
// smallest step after prev (persistent's TimeStamp.laterThan). The step adds
// one to the low word; when the low word is already 0xffffffff it moves to
// the start of the next calendar minute. The result is strictly greater than
// prev for every prev below 0xffffffffffffffff; at that value, the end of
// the range, prev itself is returned because nothing is greater.
func NextTID(prev TID, now time.Time) TID {
	if t := TIDFromTime(now); t.Uint64() > prev.Uint64() {
		return t
	}
	a, b := prev.words()
	if b != math.MaxUint32 {
		return makeTID(a, b+1)
	}
	if a == math.MaxUint32 {
		return prev
	}
	year, month, day, hour, minute := fields(a)
	next := time.Date(year, month, day, hour, minute, 0, 0, time.UTC).Add(time.Minute)
	if t := TIDFromTime(next); t.Uint64() > prev.Uint64() {
		return t
	}
	// Unreachable for valid and normalized dates alike; stay strictly
	// increasing regardless.
	return makeTID(a+1, 0)
}
