package zeotest

import (
	"context"
	"fmt"
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// Seed commits one transaction that sets oid's record to data, whatever
// its current revision, and returns the transaction's id. data is a ZODB
// record as storages keep it: the class pickle and the state pickle, back
// to back. Connected clients are told of the commit as of any other.
func (s *Server) Seed(ctx context.Context, oid zodb.OID, data []byte) (zodb.TID, error) {
	tid, err := s.srv.Store().Seed(ctx, oid, data)
	if err != nil {
		return zodb.TID{}, fmt.Errorf("zeotest: seed %s: %w", oid, err)
	}
	return tid, nil
}

// SeedObject commits one transaction that stores oid as an instance of
// class ("module.Name", e.g. "persistent.mapping.PersistentMapping")
// with the given state, and returns the transaction's id. The record is
// written as ZODB on the profile's Python writes it: protocol 1 pickles
// with py2 strings for Python 2 servers, protocol 3 for Python 3 ones.
// state is what the class's __getstate__ returns, in the values of the
// pickle package: a *pickle.Dict of attributes for most classes, with
// references to other objects as pickle.PersistentRef values.
func (s *Server) SeedObject(ctx context.Context, oid zodb.OID, class string, state pickle.Value) (zodb.TID, error) {
	data, err := s.Record(class, state)
	if err != nil {
		return zodb.TID{}, err
	}
	return s.Seed(ctx, oid, data)
}

// Record encodes a ZODB record of class and state as SeedObject stores
// it, for tests that compare what they load with what they seeded.
func (s *Server) Record(class string, state pickle.Value) ([]byte, error) {
	dot := strings.LastIndexByte(class, '.')
	if dot <= 0 || dot == len(class)-1 {
		return nil, fmt.Errorf("zeotest: class %q is not \"module.Name\"", class)
	}
	data, err := record.EncodeObject(class, state, s.srv.Profile().RecordFormat())
	if err != nil {
		return nil, fmt.Errorf("zeotest: encoding a %s record: %w", class, err)
	}
	return data, nil
}
