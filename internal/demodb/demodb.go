// Package demodb starts the embedded test server with a small application
// database, the one zeodump -demo dumps, zeoweb -demo shows and zeoweb's
// tests read: a root mapping, an OOBTree of 120 people and an IOBTree of
// 3000 counters (built by package btree, so they have the shapes Python's
// BTrees gives them), objects with a history, a list, a blob (with its
// file where the server generation has blobs), and a cross-database and a
// weak reference.
//
// Records are written through package db on every profile, so they are
// pickled as the ZODB of the chosen server profile writes them (db picks
// the Python 2 format for a Python 2 server).
package demodb

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// DefaultProfile is the server profile the demo imitates by default.
const DefaultProfile = testserver.DefaultProfile

// Demo is a running demo server and the oids of its objects.
type Demo struct {
	Server *testserver.Server
	// Addr is the server's address.
	Addr string
	// The objects: Root is oid 0; People and Counters are the BTrees.
	Root, People, Counters, Settings, Alice, Bob, Notes, Report zodb.OID
	// PeopleLen and CountersLen are the trees' item counts.
	PeopleLen, CountersLen int
	// ReportData is the file of the blob Report, nil where the server
	// generation has no blobs (before ZODB 3.8) or the storage keeps none:
	// there Report is a blob record without a file.
	ReportData []byte
	// Created is the tid of the transaction that wrote the application
	// objects; BobChanged the one that changed Bob's email.
	Created, BobChanged zodb.TID
	// Format is the record format the demo writes in.
	Format record.Format

	writer *zeo.Client
	db     *db.DB
	mu     sync.Mutex
	visits int64
}

// Start starts a test server imitating profile ("" for DefaultProfile)
// on a loopback port and writes the demo database to it.
func Start(ctx context.Context, profile string) (*Demo, error) {
	if profile == "" {
		profile = DefaultProfile
	}
	srv, err := testserver.StartLocal(testserver.Options{Profile: profile})
	if err != nil {
		return nil, err
	}
	d, err := Seed(ctx, srv)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return d, nil
}

// Seed writes the demo database to srv, which must be empty. Close stops
// the server too.
func Seed(ctx context.Context, srv *testserver.Server) (*Demo, error) {
	c, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{Label: "demodb-writer", Reconnect: zeo.ReconnectPolicy{MinDelay: 50 * time.Millisecond, MaxDelay: time.Second}})
	if err != nil {
		return nil, err
	}
	d := &Demo{Server: srv, Addr: srv.Addr(), Root: db.RootOID, writer: c, db: db.New(c, nil)}
	if err := d.write(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("demodb: writing the demo database: %w", err)
	}
	return d, nil
}

// Close stops the writer and the server.
func (d *Demo) Close() error {
	d.writer.Close()
	return d.Server.Close()
}
