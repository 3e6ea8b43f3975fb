// Package zeoweb is the web interface of cmd/zeoweb: read-only HTML pages
// that show what a ZEO server holds, for any protocol generation, without
// Python or the application's classes.
//
// A [Server] is an http.Handler over one *zeo.Client. Objects and BTrees
// (through package btree) are read through a db.Snapshot, which reads as
// of a tid on every server generation; blob files through the client's
// blob directory (zeo.Options.BlobDir). Its pages:
//
//	/                         the server: negotiation, get_info, operations, last transaction
//	/obj/{oid}                an object: class, serial, record size, state with links
//	/obj/{oid}/items          a container's items in key order, paginated, with jump-to-key
//	/obj/{oid}/history        an object's revisions, and a diff of two of them (?a=&b=)
//	/obj/{oid}/blob           a blob's file, as an attachment (?serial=, or the revision as of ?at=)
//	/txns                     recent transactions (iterator or undo log)
//	/live                     new transactions as they commit (server-sent events at /events)
//
// Every page takes ?at=TID to be viewed as of that transaction, and every
// link it makes keeps it. Everything read from the database reaches the
// page through html/template, under a Content-Security-Policy that allows
// only the embedded script and style sheet, so stored markup is shown as
// text and never runs. Work per request is bounded: each page has a
// deadline, states and containers are cut off with a "show more" link.
package zeoweb
