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
// Servers older than loadBefore (ZODB 3.2, and 3.1 before it; from 3.3
// on every server has it) are read as of the tid all the same, with what
// loadBefore would answer, Next included. The current revision comes
// first, through the client cache: if it was written at or before the
// snapshot's tid, and the client had seen every transaction up to that
// tid, it is the one. Otherwise the object's history, newest first,
// names the revision and loadSerial reads it: two round trips, not
// cached. The history read is bounded by Options.HistoryLimit revisions;
// an object whose revision lies further back is a *HistoryLimitError,
// never a wrong not-found. ZODB 3.1 (ZEO 2.0) reports no tids at all:
// there DB.Snapshot returns a snapshot that reads the current revisions
// (Snapshot.Latest), which is all such a server can give.
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
