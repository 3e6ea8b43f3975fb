// Package db reads and writes a ZODB's objects through a zeo.Client, as
// ZODB's Connection does for Python: records taken apart by package
// record, read through consistent snapshots and written in transactions.
//
// A Snapshot is the database as of one tid. Every read through it is
// LoadBefore(oid, at+1), served by the client cache when it holds that
// revision, so a multi-object read (a BTree walk, a graph) is never torn
// by a concurrent commit. It stays where it is until Advance moves it to
// the newest transaction the client knows of.
//
// A Txn writes on top of a snapshot: objects get new states (Store), new
// objects get oids from the storage's pool (NewOID), and Commit writes
// them all in one ZEO transaction, encoded in the record format the
// database's Python clients read (record.Py3 or record.Py2: the root
// record's protocol tells, an option overrides). A write conflict comes
// back as a *ConflictError naming the object and both serials.
//
// *Snapshot and *Txn implement the Loader and Writer interfaces of package
// btree.
package db
