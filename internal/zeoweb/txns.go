package zeoweb

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// txnsData is the transactions page.
type txnsData struct {
	V       view
	Source  string // "iterator", "undo log" or ""
	Note    string
	Txns    []txnRow
	Older   string
	Per     int
	Partial string
}

type txnRow struct {
	TID         zodb.TID
	HasTID      bool
	Time        time.Time
	User        string
	Description string
	Ext         []keyValue
	OIDs        []oidLink
	MoreOIDs    int
	NoOIDs      bool // the source cannot say which objects changed
}

const (
	defaultTxns    = 25
	maxTxns        = 500
	maxOIDsPerTxn  = 50
	maxExtValueLen = 500
)

func (s *Server) txnsPage(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	per, err := v.intParam("n", defaultTxns, maxTxns)
	if err != nil {
		return "", nil, err
	}
	d := txnsData{V: v, Per: per}
	stop := zodb.TID{} // to the end
	if v.HasAt {
		stop = v.At
	}
	if b := v.Get("before"); b != "" {
		t, err := zodb.ParseTID(b)
		if err != nil || t.Uint64() == 0 {
			return "", nil, badRequestf("?before= must be a non-zero tid")
		}
		if stop == (zodb.TID{}) || t.Compare(stop) <= 0 {
			stop = zodb.TIDFromUint64(t.Uint64() - 1)
		}
	}
	switch iter := s.client.Supports(zeo.OpIterator); {
	case iter:
		d.Source = "iterator"
		err = s.iterTxns(ctx, &d, stop, per)
	default:
		if !s.client.Supports(zeo.OpUndoLog) {
			d.Note = fmt.Sprintf("This server (protocol %s) has neither a transaction iterator nor an undo log: there is no list of transactions to show. The live feed still shows new ones.", s.client.Session().Negotiated)
			return "txns", d, nil
		}
		d.Source = "undo log"
		d.Note = fmt.Sprintf("This server (protocol %s) has no transaction iterator (it came with ZODB 3.9): these are its undo log's entries, which do not list the objects each transaction changed.", s.client.Session().Negotiated)
		err = s.undoTxns(ctx, &d, stop, per)
	}
	if errors.Is(err, context.DeadlineExceeded) && len(d.Txns) > 0 {
		d.Partial = "The page ran out of time: the list is incomplete."
		err = nil
	}
	return "txns", d, err
}

// iterTxns finds the last per transactions up to stop with the storage
// iterator. The iterator only goes forward, so it first counts through a
// window before stop (an hour, a day, a month, a year, then all), widened
// until it holds per transactions, then reads those with their records.
func (s *Server) iterTxns(ctx context.Context, d *txnsData, stop zodb.TID, per int) error {
	end := time.Now()
	if stop != (zodb.TID{}) {
		end = stop.Time()
	}
	var first zodb.TID
	found := 0
	for _, window := range []time.Duration{time.Hour, 24 * time.Hour, 30 * 24 * time.Hour, 365 * 24 * time.Hour, 0} {
		start := zodb.TID{}
		if window > 0 {
			start = zodb.TIDFromTime(end.Add(-window))
		}
		tids, err := s.lastTIDs(ctx, start, stop, per+1)
		if err != nil {
			return err
		}
		if len(tids) > per || window == 0 {
			found = len(tids)
			if len(tids) > 0 {
				first = tids[0]
			}
			break
		}
	}
	if found == 0 {
		return nil
	}
	// with per+1 found, the oldest is only there to tell that there are
	// older ones: the page starts after it.
	it, err := s.client.Iterator(ctx, first, stop)
	if err != nil {
		return err
	}
	defer it.Close()
	for {
		info, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if found > per && info.TID == first {
			continue
		}
		row := txnRow{TID: info.TID, HasTID: true, Time: info.TID.Time(), User: info.User, Description: info.Description, Ext: extRows(info.Extension)}
		recs, err := it.Records(ctx, info)
		if err != nil {
			return err
		}
		for i, rec := range recs {
			if i == maxOIDsPerTxn {
				row.MoreOIDs = len(recs) - i
				break
			}
			row.OIDs = append(row.OIDs, oidLink{OID: rec.OID, Href: d.V.URL("/obj/"+rec.OID.String(), "at", info.TID.String())})
		}
		d.Txns = append(d.Txns, row)
	}
	slices.Reverse(d.Txns) // newest first
	if found > per && len(d.Txns) > 0 {
		d.Older = d.V.URL("/txns", "before", d.Txns[len(d.Txns)-1].TID.String(), "n", fmt.Sprint(per))
	}
	return nil
}

// lastTIDs returns the last n tids with start ≤ tid ≤ stop, oldest first.
func (s *Server) lastTIDs(ctx context.Context, start, stop zodb.TID, n int) ([]zodb.TID, error) {
	it, err := s.client.Iterator(ctx, start, stop)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	ring := make([]zodb.TID, 0, n)
	for {
		info, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return ring, nil
		}
		if err != nil {
			return nil, err
		}
		if len(ring) == n {
			copy(ring, ring[1:])
			ring = ring[:n-1]
		}
		ring = append(ring, info.TID)
	}
}

// undoTxns lists the undo log, newest first. FileStorage's undo ids are
// the base64 of the tid, which lets the page link the transaction.
func (s *Server) undoTxns(ctx context.Context, d *txnsData, stop zodb.TID, per int) error {
	// The undo log has no "up to tid" argument: for a page before a
	// tid, read a bounded amount and filter.
	limit := per + 1
	if stop != (zodb.TID{}) {
		limit = maxTxns * 4
	}
	recs, err := s.client.UndoLog(ctx, 0, limit)
	if err != nil {
		return err
	}
	for _, u := range recs {
		row := txnRow{Time: u.Time, User: u.User, Description: u.Description, Ext: extRows(u.Extension), NoOIDs: true}
		if b, err := base64.StdEncoding.DecodeString(string(u.ID)); err == nil && len(b) == 8 {
			row.TID, row.HasTID = zodb.TID(b), true
			row.Time = row.TID.Time()
		}
		if stop != (zodb.TID{}) && (!row.HasTID || row.TID.Compare(stop) > 0) {
			continue
		}
		if len(d.Txns) == per {
			if row.HasTID {
				d.Older = d.V.URL("/txns", "before", d.Txns[len(d.Txns)-1].TID.String(), "n", fmt.Sprint(per))
			}
			break
		}
		d.Txns = append(d.Txns, row)
	}
	return nil
}

// extRows shows a transaction's extension as sorted text pairs.
func extRows(ext map[string]any) []keyValue {
	var rows []keyValue
	for k, v := range ext {
		text := fmt.Sprint(v)
		if b, ok := v.([]byte); ok {
			text = string(b)
		}
		if len(text) > maxExtValueLen {
			text = cutUTF8(text, maxExtValueLen) + "…"
		}
		rows = append(rows, keyValue{k, text})
	}
	slices.SortFunc(rows, func(a, b keyValue) int { return strings.Compare(a.Key, b.Key) })
	return rows
}
