package zeoweb

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/demodb"
	"github.com/gozeo/gozeo/internal/testserver"
)

var blobSizeRE = regexp.MustCompile(`id="blob-size">(\d+)<`)

// The demo's blob: its size on the object page, and a download of
// exactly the stored bytes, in the generations with blobs; a note where
// the server has none.
func TestBlob(t *testing.T) {
	for _, profile := range []string{"z5-py3", "z308-py24", "z3101-py27", "z303-py24"} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, profile, Options{})
			obj := "/obj/" + f.demo.Report.String()
			body := f.page(t, obj)
			if f.demo.ReportData == nil {
				if !strings.Contains(text(body), "this server has no blobs") || strings.Contains(body, `id="blob-download"`) {
					t.Errorf("a blob record on a server without blobs:\n%s", text(body))
				}
				return
			}
			m := blobSizeRE.FindStringSubmatch(body)
			if m == nil || m[1] != strconv.Itoa(len(f.demo.ReportData)) {
				t.Fatalf("blob size %v, want %d:\n%s", m, len(f.demo.ReportData), text(body))
			}
			res, data := f.get(t, linkByID(t, body, "blob-download"))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("download: %s\n%s", res.Status, data)
			}
			if sha256.Sum256([]byte(data)) != sha256.Sum256(f.demo.ReportData) {
				t.Errorf("the download is %d bytes that differ from the %d stored", len(data), len(f.demo.ReportData))
			}
			h := res.Header
			if h.Get("Content-Type") != "application/octet-stream" || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") {
				t.Errorf("download headers: %v", h)
			}

			// Without ?serial=, the revision current as of the view.
			res, data = f.get(t, obj+"/blob?at="+f.demo.Created.String())
			if res.StatusCode != http.StatusOK || len(data) != len(f.demo.ReportData) {
				t.Errorf("download as of %s: %s, %d bytes", f.demo.Created, res.Status, len(data))
			}
		})
	}
}

// A storage without a blob directory, on a server of a generation with
// blobs: the blob object's page says so.
func TestBlobStorageWithoutBlobs(t *testing.T) {
	srv, err := testserver.StartLocal(testserver.Options{Profile: "z5-py3", NoBlobs: true})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := demodb.Seed(t.Context(), srv)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	f := newFixtureOn(t, demo, Options{})
	body := f.page(t, "/obj/"+demo.Report.String())
	if !strings.Contains(text(body), "this server keeps no blob files") || strings.Contains(body, `id="blob-download"`) {
		t.Errorf("a blob record on a storage without blobs:\n%s", text(body))
	}
}

// Download requests that name no blob, or name it in a hostile way, are
// refused; a file name asked for does not reach the attachment's name.
func TestBlobDownloadRejects(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	blob := "/obj/" + f.demo.Report.String() + "/blob"
	for _, tc := range []struct {
		url  string
		code int
	}{
		{"/obj/" + url.PathEscape("../../etc/passwd") + "/blob", http.StatusBadRequest},
		{"/obj/" + url.PathEscape(`"><script>alert(1)</script>`) + "/blob", http.StatusBadRequest},
		{blob + "?serial=" + url.QueryEscape("../../etc/passwd"), http.StatusBadRequest},
		{blob + "?serial=" + url.QueryEscape("0000000000000001\r\nX-Evil: 1"), http.StatusBadRequest},
		{blob + "?serial=0000000000000001", http.StatusNotFound},
		{"/obj/" + f.demo.Bob.String() + "/blob", http.StatusBadRequest},
	} {
		res, body := f.get(t, tc.url)
		if res.StatusCode != tc.code {
			t.Errorf("GET %s: %s, want %d\n%s", tc.url, res.Status, tc.code, text(body))
		}
		if res.Header.Get("Content-Disposition") != "" || res.Header.Get("X-Evil") != "" {
			t.Errorf("GET %s: headers %v", tc.url, res.Header)
		}
		checkNoActiveContent(t, tc.url, body)
	}
	res, _ := f.get(t, blob+"?filename="+url.QueryEscape(`evil.html"; x="../../.bashrc`))
	want := "attachment; filename=" + strings.ToLower(f.demo.Report.String()) + "-"
	if cd := res.Header.Get("Content-Disposition"); res.StatusCode != http.StatusOK || !strings.HasPrefix(cd, want) || strings.Contains(cd, "evil") {
		t.Errorf("with ?filename=: %s, Content-Disposition %q", res.Status, cd)
	}
}

// A blob whose file takes longer to fetch than half of the page's time:
// the page comes on time with the download link and no size, and the
// download, which the page deadline does not bound, brings the file.
func TestSlowBlob(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{PageTimeout: 300 * time.Millisecond})
	f.demo.Server.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: "sendBlob", Action: testserver.FaultDelayReply, Delay: time.Second}}})
	body := f.page(t, "/obj/"+f.demo.Report.String())
	if strings.Contains(body, `id="blob-size"`) || !strings.Contains(text(body), "taking long to fetch") {
		t.Errorf("a slow blob's page:\n%s", text(body))
	}
	res, data := f.get(t, linkByID(t, body, "blob-download"))
	if res.StatusCode != http.StatusOK || sha256.Sum256([]byte(data)) != sha256.Sum256(f.demo.ReportData) {
		t.Errorf("download of a slow blob: %s, %d bytes", res.Status, len(data))
	}
}

// The fetch a page stopped waiting for goes on: later views of the page,
// each too short for the slow server on its own, find the file cached and
// show its size. (Were each view's fetch cancelled with its page, none
// would ever finish.)
func TestSlowBlobFetchGoesOn(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{PageTimeout: 200 * time.Millisecond})
	f.demo.Server.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: "sendBlob", Action: testserver.FaultDelayReply, Delay: 500 * time.Millisecond}}})
	page := "/obj/" + f.demo.Report.String()
	for range 100 { // 100 views of 100 ms each: far more than the delay
		body := f.page(t, page)
		if strings.Contains(body, `id="blob-size"`) {
			if !strings.Contains(text(body), strconv.Itoa(len(f.demo.ReportData))) {
				t.Errorf("the size shown is not the file's:\n%s", text(body))
			}
			return
		}
	}
	t.Error("no view ever showed the slow blob's size: each fetch ended with its page")
}
