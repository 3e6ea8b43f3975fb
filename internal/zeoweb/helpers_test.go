package zeoweb

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/demodb"
	"github.com/gozeo/gozeo/zeo"
)

// fixture is the demo database on a test server of one profile, a
// read-only client of it, and the web server over that client.
type fixture struct {
	demo   *demodb.Demo
	client *zeo.Client
	web    *Server
}

func newFixture(t testing.TB, profile string, opts Options) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	demo, err := demodb.Start(ctx, profile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	return newFixtureOn(t, demo, opts)
}

// newFixtureOn is newFixture over a demo database already started.
func newFixtureOn(t testing.TB, demo *demodb.Demo, opts Options) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	f := &fixture{demo: demo}
	client, err := zeo.Dial(ctx, demo.Addr, &zeo.Options{ReadOnly: true, Label: "zeoweb-test", BlobDir: t.TempDir(),
		Reconnect: zeo.ReconnectPolicy{MinDelay: 20 * time.Millisecond, MaxDelay: 100 * time.Millisecond},
		OnStatus: func(ev zeo.StatusEvent) {
			if f.web != nil {
				f.web.NoteStatus(ev)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	web, err := New(client, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.client, f.web = client, web
	return f
}

// get serves one request and returns the response and its body.
func (f *fixture) get(t testing.TB, url string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", url, nil)
	rec := httptest.NewRecorder()
	f.web.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// page is get that expects 200 and the security headers.
func (f *fixture) page(t *testing.T, url string) string {
	t.Helper()
	res, body := f.get(t, url)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, text(body))
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("GET %s: Content-Security-Policy %q", url, csp)
	}
	return body
}

var (
	tagRE  = regexp.MustCompile(`<[^>]*>`)
	hrefRE = regexp.MustCompile(`href="([^"]*)"`)
)

// text is a page without its markup, with entities decoded, for
// messages and for looking for what a user reads.
func text(body string) string {
	s := tagRE.ReplaceAllString(body, "")
	return strings.NewReplacer("&#34;", `"`, "&lt;", "<", "&gt;", ">", "&amp;", "&", "&#39;", "'", "&#43;", "+").Replace(s)
}

// links are a page's hrefs, with &amp; decoded.
func links(body string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return out
}

// linkByID is the href of the element with the given id.
func linkByID(t *testing.T, body, id string) string {
	t.Helper()
	re := regexp.MustCompile(`href="([^"]*)" id="` + regexp.QuoteMeta(id) + `"`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link with id %q in\n%s", id, text(body))
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}
