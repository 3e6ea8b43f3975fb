package zeoweb

import (
	"context"
	"net/http"

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

// blobInfo describes the blob of oid at serial. The client has no blob
// call yet: the page says that the object is a blob and that its data
// cannot be read through this client.
func (s *Server) blobInfo(ctx context.Context, oid zodb.OID, serial zodb.TID, v view) *blobInfo {
	return &blobInfo{Note: "This object is a ZODB blob: its data is kept beside the record, in the server's blob directory. This version of zeoweb cannot read blob data yet."}
}

// blobDownload sends the blob's data.
func (s *Server) blobDownload(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (string, any, error) {
	return "", nil, badRequestf("reading blob data is not supported by this client yet")
}
