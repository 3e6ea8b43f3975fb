package zeotest

import (
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// Profile names a server generation a test server imitates, as a real
// release on a given Python.
type Profile string

// The profiles, oldest server first. Each stays what its name says: a
// test that passes against one keeps passing.
const (
	Z201Py24  Profile = "z201-py24"  // ZODB 3.2 (ZEO 2.2) on Python 2.4: announces Z201, protocol-0 pickles, no MVCC
	Z303Py24  Profile = "z303-py24"  // ZODB 3.3.1 – 3.7 on Python 2.4: Z303, versions
	Z308Py24  Profile = "z308-py24"  // ZODB 3.8 on Python 2.4: Z308, classic exceptions
	Z308Py27  Profile = "z308-py27"  // ZODB 3.8 on Python 2.7: Z308
	Z309Py26  Profile = "z309-py26"  // ZODB 3.9 on Python 2.6: Z309, versions gone, iterators
	Z3101Py27 Profile = "z3101-py27" // ZODB 3.10.7 / ZEO 4.0 – 4.1 on Python 2.7: Z3101
	Z4Py27    Profile = "z4-py27"    // ZEO 4.2 – 4.3 on Python 2.7: Z4
	Z4Py3     Profile = "z4-py3"     // ZEO 4.2 – 4.3 on Python 3: Z4, protocol-3 pickles
	Z5Py3     Profile = "z5-py3"     // ZEO 5.2.2+ / 6 on Python 3, pickle: Z5
	M5Py3     Profile = "m5-py3"     // ZEO 5.2.2+ / 6 on Python 3, msgpack: M5
)

// DefaultProfile is what a zero Options selects.
const DefaultProfile = Z5Py3

// Profiles returns every profile, oldest server first.
func Profiles() []Profile {
	names := testserver.ProfileNames()
	ps := make([]Profile, len(names))
	for i, n := range names {
		ps[i] = Profile(n)
	}
	return ps
}

// Release describes the real server p imitates, e.g. "ZODB 3.8 (ZEO 3.8)
// on Python 2.7"; "" for an unknown profile.
func (p Profile) Release() string {
	tp, _ := testserver.LookupProfile(string(p))
	return tp.Release
}

// Version returns the protocol version p's server announces; "" for an
// unknown profile.
func (p Profile) Version() zeo.Version {
	tp, ok := testserver.LookupProfile(string(p))
	if !ok {
		return ""
	}
	return tp.Announce()
}

// Python returns the major version of the Python p's server ran on, 2 or
// 3 (0 for an unknown profile): what decides the pickle dialect of what
// it stores and sends.
func (p Profile) Python() int {
	tp, _ := testserver.LookupProfile(string(p))
	return tp.Python
}
