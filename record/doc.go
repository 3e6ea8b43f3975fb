// Package record takes ZODB data records apart and puts them back
// together: Decode reads a record, EncodeObject and Record.Encode write one
// in the pickle format the database's Python clients read (Py3, or Py2 for
// ZODB3 and ZODB 4 on Python 2), JSON gives any value a language-neutral
// view, and a Registry turns the classes a program knows into Go values
// (Mapping, List, Length, WeakRef and Blob are built in).
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
