// Package record takes ZODB data records apart and, in time, puts them back
// together.
//
// A ZODB data record is what a storage keeps for one revision of one
// object: two pickles written back to back by one pickler, so that they
// share a memo. The first names the object's class (with constructor
// arguments for classes that have __getnewargs__); the second is the
// object's state, as __getstate__ returned it. References to other
// persistent objects appear in the state as persistent ids, in several
// forms (see Ref).
//
// Decoding executes nothing and imports nothing: classes stay symbolic
// (module and name), and persistent references are collected, not
// followed, so a Go program can read records written by any ZODB on any
// Python without the application's classes.
package record
