package zeoweb

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// isBlob reports whether class is ZODB's blob class, whose data lives
// beside the record (docs/protocol.md, Blobs).
func isBlob(class string) bool { return class == record.ClassBlob }

// blobInfo is what the object page says about a blob.
type blobInfo struct {
	Size     int64
	HasSize  bool
	Download string
	Note     string
}

// blobFetchTimeout bounds a blob fetch the page stopped waiting for.
const blobFetchTimeout = 10 * time.Minute

// blobInfo describes the blob of oid at serial: its size and a link that
// downloads that revision's file, or a note saying why there is none.
// Reading the size fetches the file into the client's blob cache, where
// the download then finds it. A file that takes more than half of the
// page's time to fetch gets the link without its size; its fetch goes on
// in the background (bounded by blobFetchTimeout), so that a later view
// or the download finds it cached instead of starting again.
func (s *Server) blobInfo(ctx context.Context, oid zodb.OID, serial zodb.TID, v view) *blobInfo {
	wait := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		wait, cancel = context.WithDeadline(ctx, dl.Add(-time.Until(dl)/2))
		defer cancel()
	}
	type fetched struct {
		size int64
		err  error
	}
	done := make(chan fetched, 1) // the fetch never waits for the page
	go func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), blobFetchTimeout)
		defer cancel()
		b, err := s.client.LoadBlob(fctx, oid, serial)
		if err != nil {
			done <- fetched{err: err}
			return
		}
		b.Close()
		done <- fetched{size: b.Size}
	}()
	link := v.URL("/obj/"+oid.String()+"/blob", "serial", serial.String())
	select {
	case f := <-done:
		if f.err != nil {
			return &blobInfo{Note: blobNote(f.err)}
		}
		return &blobInfo{Size: f.size, HasSize: true, Download: link}
	case <-wait.Done():
		return &blobInfo{Download: link, Note: "The file is taking long to fetch (a large blob?), so its size is not shown yet: it goes on being fetched, and the download or a later view of this page finds it."}
	}
}

// blobNote says why a blob's file cannot be had.
func blobNote(err error) string {
	var un *zeo.UnsupportedError
	var nf *zeo.NotFoundError
	switch {
	case errors.Is(err, zeo.ErrNoBlobDir):
		return "This object is a ZODB blob, but zeoweb runs without a blob directory, so it cannot fetch blob files."
	case errors.As(err, &un) && un.Reason != "":
		return "This object is a ZODB blob, but this server keeps no blob files: " + un.Reason + "."
	case errors.As(err, &un):
		return fmt.Sprintf("This object is a ZODB blob, but this server has no blobs: protocol %s predates them (they came with ZODB 3.8).", un.Version)
	case errors.As(err, &nf):
		return "This object is a ZODB blob, but the server has no file for this revision (packed away, or never stored)."
	}
	return "This object is a ZODB blob, but its file could not be read: " + err.Error()
}

// blobDownload sends a blob's file as an attachment: the revision
// ?serial= names, or the one current as of the view's tid. The name the
// browser saves it under is made of the oid and serial only. Fetching the
// file is not bound by the page deadline (a large blob takes the time it
// takes), only by the browser staying.
func (s *Server) blobDownload(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	oid, err := oidParam(r)
	if err != nil {
		return "", nil, err
	}
	var serial zodb.TID
	if q := v.Get("serial"); q != "" {
		if serial, err = zodb.ParseTID(q); err != nil {
			return "", nil, badRequestf("?serial= must be a transaction id in hex: " + err.Error())
		}
	} else {
		sn, err := s.snapshotFor(ctx, v)
		if err != nil {
			return "", nil, err
		}
		rev, err := sn.LoadRaw(ctx, oid)
		if err != nil {
			return "", nil, err
		}
		rec, err := record.Decode(rev.Data)
		if err != nil || !isBlob(rec.Class) {
			return "", nil, badRequestf(fmt.Sprintf("oid %s is not a blob", oid.Repr()))
		}
		serial = rev.Serial
	}
	b, err := s.client.LoadBlob(r.Context(), oid, serial)
	var nf *zeo.NotFoundError
	switch {
	case errors.As(err, &nf):
		return "", nil, err
	case err != nil && r.Context().Err() == nil:
		return "", nil, badRequestf(blobNote(err))
	case err != nil:
		return "", nil, err
	}
	defer b.Close()
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	name := strings.ToLower(fmt.Sprintf("%s-%s.blob", oid, serial))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	http.ServeContent(w, r, "", time.Time{}, b)
	return "", nil, nil
}
