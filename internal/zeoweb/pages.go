package zeoweb

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// serverData is the server page.
type serverData struct {
	V          view
	Session    zeo.Session
	Status     string
	Info       zeo.ServerInfo
	InfoRows   []keyValue
	Ops        []opRow
	Last       zodb.TID
	LastErr    string
	Iterator   bool
	UndoLog    bool
	ConnectTID zodb.TID
}

type keyValue struct{ Key, Value string }

type opRow struct {
	Op     zeo.Operation
	Method string
	OK     bool
}

// maxInfoValue bounds a get_info value shown.
const maxInfoValue = 2000

func (s *Server) serverPage(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	d := serverData{V: v, Session: s.client.Session(), Status: s.client.Status().String(), Info: s.client.ServerInfo()}
	d.ConnectTID = d.Session.ConnectTID
	for k, val := range d.Info.Raw {
		text := fmt.Sprint(val)
		if len(text) > maxInfoValue {
			text = cutUTF8(text, maxInfoValue) + "…"
		}
		d.InfoRows = append(d.InfoRows, keyValue{k, text})
	}
	slices.SortFunc(d.InfoRows, func(a, b keyValue) int { return strings.Compare(a.Key, b.Key) })
	methods := s.client.Session().Methods
	for _, op := range zeo.Operations() {
		m, ok := methods[op]
		d.Ops = append(d.Ops, opRow{op, m, ok})
	}
	d.Iterator = s.client.Supports(zeo.OpIterator)
	d.UndoLog = s.client.Supports(zeo.OpUndoLog)
	last, err := s.client.LastTransaction(ctx)
	if err != nil {
		d.LastErr = err.Error()
	}
	d.Last = last
	return "server", d, nil
}

// goPage sends the "open object" form to the object's page.
func (s *Server) goPage(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	oid, err := zodb.ParseOID(strings.TrimSpace(v.Get("oid")))
	if err != nil {
		return "", nil, badRequestf("not an object id: " + err.Error())
	}
	if at := strings.TrimSpace(v.Get("tid")); at != "" {
		tid, err := zodb.ParseTID(at)
		if err != nil {
			return "", nil, badRequestf("not a transaction id: " + err.Error())
		}
		v.At, v.HasAt = tid, true
	}
	http.Redirect(w, r, v.Obj(oid), http.StatusSeeOther)
	return "", nil, nil
}

// objectData is the object page.
type objectData struct {
	V         view
	OID       zodb.OID
	Class     string
	ClassArgs *node
	Serial    zodb.TID
	Next      zodb.TID
	Size      int
	State     *node
	DecodeErr string
	Head      string // the record's first bytes in hex, when it cannot be decoded
	Refs      []refRow
	Truncated bool
	MoreURL   string
	Container string // the items page's kind, "" for none
	ItemsURL  string
	Blob      *blobInfo
}

type refRow struct {
	Node *node
	Path string
}

// maxScale caps "show more".
const maxScale = 1000

func (s *Server) objectPage(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	oid, err := oidParam(r)
	if err != nil {
		return "", nil, err
	}
	scale, err := v.intParam("more", 1, maxScale)
	if err != nil {
		return "", nil, err
	}
	sn, err := s.snapshotFor(ctx, v)
	if err != nil {
		return "", nil, err
	}
	rev, err := sn.LoadRaw(ctx, oid)
	if err != nil {
		return "", nil, err
	}
	d := objectData{V: v, OID: oid, Serial: rev.Serial, Next: rev.Next, Size: len(rev.Data)}
	rec, err := record.Decode(rev.Data)
	if err != nil {
		d.DecodeErr = err.Error()
		d.Head = fmt.Sprintf("% x", rev.Data[:min(len(rev.Data), 256)])
		return "object", d, nil
	}
	l := newLayout(v, limitsFor(scale))
	d.Class = rec.Class
	if d.Class == "" {
		d.Class = truncRepr(rec.ClassMeta, l.lim.String)
	}
	if rec.ClassArgs != nil {
		d.ClassArgs = l.value(rec.ClassArgs, 0)
	}
	d.State = l.value(rec.State, 0)
	for i, ref := range rec.Refs {
		if i >= l.lim.Items {
			l.truncated = true
			break
		}
		d.Refs = append(d.Refs, refRow{Node: l.ref(ref)})
	}
	if l.truncated && scale < maxScale {
		d.Truncated, d.MoreURL = true, v.Here("more", fmt.Sprint(scale*10))
	}
	if kind := containerKind(rec); kind != "" {
		d.Container, d.ItemsURL = kind, v.URL("/obj/"+oid.String()+"/items")
	}
	if isBlob(rec.Class) {
		d.Blob = s.blobInfo(ctx, oid, rev.Serial, v)
	}
	return "object", d, nil
}

// itemsData is the container page.
type itemsData struct {
	V        view
	OID      zodb.OID
	Class    string
	Kind     string
	Keyed    bool
	Len      int
	LenExact bool
	LenErr   string
	PageErr  string // why the items end early
	Items    []itemRow
	NextURL  string
	FirstURL string
	JumpKey  string
	Per      int
	More     string
}

type itemRow struct {
	Key, Value *node
}

const (
	defaultPage = 50
	maxPage     = 1000
)

func (s *Server) itemsPage(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	oid, err := oidParam(r)
	if err != nil {
		return "", nil, err
	}
	per, err := v.intParam("n", defaultPage, maxPage)
	if err != nil {
		return "", nil, err
	}
	sn, err := s.snapshotFor(ctx, v)
	if err != nil {
		return "", nil, err
	}
	rec, err := sn.Load(ctx, oid)
	if err != nil {
		return "", nil, err
	}
	c, err := openContainer(ctx, sn, oid, rec)
	if err != nil {
		return "", nil, err
	}
	if c == nil {
		return "", nil, badRequestf(fmt.Sprintf("oid %s (%s) is not a container this page can list", oid.Repr(), rec.Class))
	}
	d := itemsData{V: v, OID: oid, Class: rec.Class, Kind: c.Kind(), Keyed: c.Keyed(), Per: per,
		JumpKey: v.Get("key"), FirstURL: v.Here("from", "", "key", "")}
	var from pickle.Value
	switch {
	case d.JumpKey != "" && c.Keyed():
		if from, err = c.Key(ctx, d.JumpKey); err != nil {
			return "", nil, err
		}
	case v.Get("from") != "":
		if from, err = decodeKey(v.Get("from")); err != nil {
			return "", nil, err
		}
	}
	page, err := c.Page(ctx, from, per)
	if ctx.Err() != nil {
		return "", nil, ctx.Err()
	}
	if err != nil {
		// A damaged tree, or a key it cannot compare: the items read so
		// far, and why there are no more.
		d.PageErr = treeTrouble(err)
	}
	l := newLayout(v, limitsFor(1))
	for _, it := range page.Items {
		row := itemRow{Key: l.value(it.Key, 0)}
		if it.Value != nil {
			row.Value = l.value(it.Value, 0)
		}
		d.Items = append(d.Items, row)
	}
	if page.HasNext {
		d.NextURL = v.Here("from", encodeKey(page.Next), "key", "")
	}
	n, exact, err := c.Len(ctx)
	d.Len, d.LenExact = n, exact
	if err != nil {
		d.LenErr = err.Error()
	}
	return "items", d, nil
}

// historyData is the history page.
type historyData struct {
	V       view
	OID     zodb.OID
	Entries []zeo.HistoryEntry
	Size    int
	More    string
	A, B    zodb.TID
	Diff    []diffLine
	DiffCut bool
	DiffErr string
}

const (
	defaultHistory = 50
	maxHistory     = 5000
)

func (s *Server) historyPage(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	oid, err := oidParam(r)
	if err != nil {
		return "", nil, err
	}
	size, err := v.intParam("n", defaultHistory, maxHistory)
	if err != nil {
		return "", nil, err
	}
	hist, err := s.historyUpTo(ctx, v, oid, size+1)
	if err != nil {
		return "", nil, err
	}
	d := historyData{V: v, OID: oid, Size: size}
	if len(hist) > size {
		hist, d.More = hist[:size], v.Here("n", fmt.Sprint(min(size*4, maxHistory)))
	}
	d.Entries = hist
	a, b := v.Get("a"), v.Get("b")
	if a == "" && b == "" {
		return "history", d, nil
	}
	if d.A, err = zodb.ParseTID(a); err != nil {
		return "", nil, badRequestf("?a= must be a tid: " + err.Error())
	}
	if d.B, err = zodb.ParseTID(b); err != nil {
		return "", nil, badRequestf("?b= must be a tid: " + err.Error())
	}
	d.Diff, d.DiffCut, err = s.diffRevisions(ctx, v, oid, d.A, d.B)
	if err != nil {
		d.DiffErr = err.Error()
	}
	return "history", d, nil
}

// maxHistoryRead bounds the revisions historyUpTo asks for.
const maxHistoryRead = 1 << 16

// historyUpTo returns the newest n revisions of oid written at or before
// the view's tid (fewer when the object has fewer). The server's history
// starts at the newest revision and has no "before" argument, so as of a
// tid it asks for four times as many each time until n are at or before
// it, the object has no more, or maxHistoryRead were read.
func (s *Server) historyUpTo(ctx context.Context, v view, oid zodb.OID, n int) ([]zeo.HistoryEntry, error) {
	for ask := n; ; ask = min(ask*4, maxHistoryRead) {
		hist, err := s.client.History(ctx, oid, ask)
		if err != nil || !v.HasAt {
			return hist, err
		}
		full := len(hist) == ask
		hist = slices.DeleteFunc(hist, func(h zeo.HistoryEntry) bool { return h.TID.Compare(v.At) > 0 })
		if len(hist) >= n || !full || ask == maxHistoryRead {
			return hist, nil
		}
	}
}

// revisionText is one revision's state as the diff compares it.
func (s *Server) revisionText(ctx context.Context, v view, oid zodb.OID, serial zodb.TID) ([]string, error) {
	data, err := s.client.LoadSerial(ctx, oid, serial)
	if err != nil {
		return nil, err
	}
	rec, err := record.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", serial.Repr(), err)
	}
	l := newLayout(v, limitsFor(4))
	var b strings.Builder
	b.WriteString("class " + rec.Class + "\n")
	l.value(rec.State, 0).text(&b, "")
	return strings.Split(b.String(), "\n"), nil
}

func (s *Server) diffRevisions(ctx context.Context, v view, oid zodb.OID, a, b zodb.TID) ([]diffLine, bool, error) {
	ta, err := s.revisionText(ctx, v, oid, a)
	if err != nil {
		return nil, false, err
	}
	tb, err := s.revisionText(ctx, v, oid, b)
	if err != nil {
		return nil, false, err
	}
	lines, cut := diffLines(ta, tb)
	return lines, cut, nil
}
