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
func isBlob(class string) bool { return class == "ZODB.blob.Blob" }

// blobInfo is what the object page says about a blob.
type blobInfo struct {
	Size     int64
	HasSize  bool
	Download string
	Note     string
}

// blobInfo describes the blob of oid at serial: its size and a link that
// downloads that revision's file, or a note saying why there is none.
// Reading the size fetches the file into the client's blob cache, where
// the download then finds it. A file that takes more than half of the
// page's time to fetch gets the link without its size.
func (s *Server) blobInfo(ctx context.Context, oid zodb.OID, serial zodb.TID, v view) *blobInfo {
	fetch := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		fetch, cancel = context.WithDeadline(ctx, dl.Add(-time.Until(dl)/2))
		defer cancel()
	}
	link := v.URL("/obj/"+oid.String()+"/blob", "serial", serial.String())
	b, err := s.client.LoadBlob(fetch, oid, serial)
	switch {
	case err != nil && fetch.Err() != nil && ctx.Err() == nil:
		return &blobInfo{Download: link, Note: "The file is taking long to fetch (a large blob?), so its size is not shown: the download fetches it."}
	case err != nil:
		return &blobInfo{Note: blobNote(err)}
	}
	defer b.Close()
	return &blobInfo{Size: b.Size, HasSize: true, Download: link}
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
