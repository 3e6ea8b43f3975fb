package conform

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// missingOID is an object no storage has: oids are handed out from 1 up.
var missingOID = zodb.OIDFromUint64(1 << 62)

// readChecks never write.
var readChecks = []check{
	{name: "handshake and register", run: checkHandshake},
	{name: "get_info", run: checkInfo},
	{name: "lastTransaction", ops: []zeo.Operation{zeo.OpLastTransaction}, run: checkLastTransaction},
	{name: "load: missing object", ops: []zeo.Operation{zeo.OpLoad}, run: checkLoadMissing},
	{name: "loadBefore: missing object", ops: []zeo.Operation{zeo.OpLoadBefore}, run: checkLoadBeforeMissing},
	{name: "history: missing object", ops: []zeo.Operation{zeo.OpHistory}, run: checkHistoryMissing},
	{name: "root object: load, loadSerial, history agree", ops: []zeo.Operation{zeo.OpLoad, zeo.OpLoadSerial, zeo.OpHistory}, run: checkRoot},
	{name: "root object: loadBefore(max) is the current revision", ops: []zeo.Operation{zeo.OpLoad, zeo.OpLoadBefore}, run: checkRootLoadBefore},
	{name: "undoLog", ops: []zeo.Operation{zeo.OpUndoLog}, run: checkUndoLog},
}

func checkHandshake(_ context.Context, e *env) Result {
	s := e.c.Session()
	got := fmt.Sprintf("announced %s, replied %s (%s), storage %q registered", s.Announced, s.Negotiated, s.Encoding, s.Storage)
	if !s.Negotiated.Known() {
		return fail("the version exchange and register", got, "a protocol version of a ZEO release")
	}
	r := pass("the version exchange and register", got)
	r.Methods = []string{"register"}
	return r
}

func checkInfo(_ context.Context, e *env) Result {
	info := e.c.ServerInfo()
	var missing []string
	for _, k := range []string{"length", "size", "name"} {
		if _, ok := info.Raw[k]; !ok {
			missing = append(missing, k)
		}
	}
	sent := "get_info()"
	got := fmt.Sprintf("name %q, length %d, size %d, supportsUndo %v", info.Name, info.Length, info.Size, info.SupportsUndo)
	if len(missing) > 0 {
		return Result{Status: Fail, Methods: []string{"get_info"}, Sent: sent, Got: fmt.Sprintf("a dict without %v", missing), Want: "a dict with length, size and name, as every ZEO server sends"}
	}
	return Result{Status: Pass, Methods: []string{"get_info"}, Sent: sent, Got: got}
}

func checkLastTransaction(ctx context.Context, e *env) Result {
	connect := e.c.Session().ConnectTID
	tid, err := e.c.LastTransaction(ctx)
	sent := "lastTransaction()"
	switch {
	case err != nil:
		return fail(sent, errText(err), "the storage's last tid")
	case tid.Compare(connect) < 0:
		return fail(sent, tid.String(), fmt.Sprintf("a tid at or after %s, the last tid when the client registered", connect))
	}
	return pass(sent, tid.String())
}

func checkLoadMissing(ctx context.Context, e *env) Result {
	rev, err := e.c.Load(ctx, missingOID)
	sent := fmt.Sprintf("load of %s, an oid no storage has", missingOID)
	var nf *zeo.NotFoundError
	if !errors.As(err, &nf) {
		return fail(sent, describe(rev, err), "POSKeyError for the oid (zeo.ErrNotFound)")
	}
	return pass(sent, errText(err))
}

func checkLoadBeforeMissing(ctx context.Context, e *env) Result {
	rev, err := e.c.LoadBefore(ctx, missingOID, zodb.MaxTID)
	sent := fmt.Sprintf("loadBefore(%s, %s)", missingOID, zodb.MaxTID)
	if !errors.Is(err, zeo.ErrNotFound) {
		return fail(sent, describe(rev, err), "POSKeyError or None (zeo.ErrNotFound)")
	}
	return pass(sent, errText(err))
}

func checkHistoryMissing(ctx context.Context, e *env) Result {
	h, err := e.c.History(ctx, missingOID, 1)
	sent := fmt.Sprintf("history(%s, 1)", missingOID)
	if !errors.Is(err, zeo.ErrNotFound) {
		return fail(sent, fmt.Sprintf("%d entries, %s", len(h), errText(err)), "POSKeyError (zeo.ErrNotFound)")
	}
	return pass(sent, errText(err))
}

// loadRoot loads oid 0, which a storage has once a ZODB database opened
// it; a skip result when it has none.
func loadRoot(ctx context.Context, e *env) (zeo.Revision, *Result) {
	rev, err := e.c.Load(ctx, zodb.ZeroOID)
	if errors.Is(err, zeo.ErrNotFound) {
		r := skip("the storage has no root object (oid 0)")
		return rev, &r
	}
	if err != nil {
		r := fail("load of the root object, oid 0", errText(err), "its current revision, or POSKeyError")
		return rev, &r
	}
	return rev, nil
}

func checkRoot(ctx context.Context, e *env) Result {
	rev, r := loadRoot(ctx, e)
	if r != nil {
		return *r
	}
	sent := fmt.Sprintf("loadSerial(0, %s) and history(0, 1) after load(0) gave serial %s", rev.Serial, rev.Serial)
	data, err := e.c.LoadSerial(ctx, zodb.ZeroOID, rev.Serial)
	if err != nil || !bytes.Equal(data, rev.Data) {
		return fail(sent, fmt.Sprintf("loadSerial: %d bytes, %s", len(data), errText(err)), fmt.Sprintf("the %d bytes load returned", len(rev.Data)))
	}
	h, err := e.c.History(ctx, zodb.ZeroOID, 1)
	if err != nil || len(h) == 0 || h[0].TID != rev.Serial {
		return fail(sent, fmt.Sprintf("history: %s", describeHistory(h, err)), "the current revision "+rev.Serial.String()+" first")
	}
	return pass(sent, fmt.Sprintf("the same %d-byte revision %s", len(rev.Data), rev.Serial))
}

func checkRootLoadBefore(ctx context.Context, e *env) Result {
	rev, r := loadRoot(ctx, e)
	if r != nil {
		return *r
	}
	sent := fmt.Sprintf("loadBefore(0, %s)", zodb.MaxTID)
	got, err := e.c.LoadBefore(ctx, zodb.ZeroOID, zodb.MaxTID)
	if err != nil || got.Serial != rev.Serial || !bytes.Equal(got.Data, rev.Data) || got.Next != (zodb.TID{}) {
		return fail(sent, describe(got, err), fmt.Sprintf("(data, %s, None): the current revision", rev.Serial))
	}
	return pass(sent, describe(got, nil))
}

func checkUndoLog(ctx context.Context, e *env) Result {
	recs, err := e.c.UndoLog(ctx, 0, 5)
	sent := "undoLog(0, 5)"
	switch {
	case err != nil:
		return fail(sent, errText(err), "a list of at most 5 transaction descriptions")
	case len(recs) > 5:
		return fail(sent, fmt.Sprintf("%d entries", len(recs)), "at most 5 entries")
	}
	return pass(sent, fmt.Sprintf("%d entries", len(recs)))
}

// describe shows a load's outcome.
func describe(rev zeo.Revision, err error) string {
	if err != nil {
		return err.Error()
	}
	s := fmt.Sprintf("%d bytes at %s", len(rev.Data), rev.Serial)
	if rev.Next != (zodb.TID{}) {
		s += ", replaced at " + rev.Next.String()
	}
	return s
}

func describeHistory(h []zeo.HistoryEntry, err error) string {
	if err != nil {
		return err.Error()
	}
	tids := make([]string, len(h))
	for i, e := range h {
		tids[i] = e.TID.String()
	}
	return fmt.Sprintf("%d entries %v", len(h), tids)
}
