package zeoweb

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

const (
	hostileText   = `</code><script>alert("stored")</script><img src=x onerror=alert(1)>`
	hostileModule = `evil"><script>alert('class')</script>`
	hostileName   = `X<svg onload=alert(2)>`
)

// scriptTags finds script elements and event-handler attributes.
var (
	scriptTagRE = regexp.MustCompile(`(?i)<script[^>]*>`)
	handlerRE   = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+=`)
	rawTagRE    = regexp.MustCompile(`(?i)<(img|svg)\b`)
)

// Stored markup, in the state, in a dict key, in a class name and in a
// transaction description, is shown as text on every page it reaches, in
// every generation's dialect.
func TestHostileContent(t *testing.T) {
	for _, profile := range []string{"z5-py3", "z3101-py27", "z201-py24"} {
		t.Run(profile, func(t *testing.T) {
			f := newFixture(t, profile, Options{})
			state := pickle.DictOf(
				"title", hostileText,
				hostileText, pickle.ByteString(hostileText),
				"nested", &pickle.List{pickle.Bytes(hostileText), pickle.Tuple{hostileText}},
			)
			oid, err := f.demo.Put(t.Context(), hostileModule, hostileName, state)
			if err != nil {
				t.Fatal(err)
			}
			obj := "/obj/" + oid.String()
			pages := []string{obj, obj + "/history", "/txns", "/obj/" + oid.String() + "/history?a=" + f.demo.Created.String() + "&b=" + f.demo.Created.String()}
			for _, u := range pages {
				res, body := f.get(t, u)
				if res.StatusCode >= 500 {
					t.Errorf("GET %s: %s", u, res.Status)
				}
				checkNoActiveContent(t, u, body)
			}
			body := f.page(t, obj)
			if !strings.Contains(text(body), hostileModule+"."+hostileName) || !strings.Contains(text(body), `alert("stored")`) {
				t.Errorf("the hostile class and text are not shown as text:\n%s", text(body))
			}
			// The error page too: an object id that echoes back.
			_, body = f.get(t, "/obj/"+url.PathEscape("<script>alert(3)</script>"))
			checkNoActiveContent(t, "bad oid", body)
			_, body = f.get(t, "/obj/0?at="+url.QueryEscape(`"><script>alert(4)</script>`))
			checkNoActiveContent(t, "bad tid", body)
		})
	}
}

// checkNoActiveContent fails when a page holds a script other than the
// embedded one, an event handler, or raw markup from the data.
func checkNoActiveContent(t *testing.T, what, body string) {
	t.Helper()
	for _, tag := range scriptTagRE.FindAllString(body, -1) {
		if tag != `<script src="/static/app.js" defer>` {
			t.Errorf("%s: a script element got through: %s", what, tag)
		}
	}
	if m := handlerRE.FindString(body); m != "" {
		t.Errorf("%s: an event handler got through: %s", what, m)
	}
	if m := rawTagRE.FindString(body); m != "" {
		t.Errorf("%s: raw markup got through: %s", what, m)
	}
}

// The embedded assets are served, with the policy that allows only them.
func TestStaticAndPolicy(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	for _, tc := range []struct{ path, ctype string }{
		{"/static/app.js", "text/javascript"},
		{"/static/style.css", "text/css"},
	} {
		res, body := f.get(t, tc.path)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.ctype) || len(body) < 100 {
			t.Errorf("%s: %s %q, %d bytes", tc.path, res.Status, res.Header.Get("Content-Type"), len(body))
		}
	}
	res, body := f.get(t, "/")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(body, "style=") || regexp.MustCompile(`<script>`).MatchString(body) {
		t.Error("a page has inline style or script, which the policy blocks")
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
}

func TestToken(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{Token: "s3cret"})
	if res, _ := f.get(t, "/"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %s", res.Status)
	}
	if res, _ := f.get(t, "/?token=wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %s", res.Status)
	}
	if res, _ := f.get(t, "/events"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("events without token: %s", res.Status)
	}
	res, _ := f.get(t, "/obj/0?at=040d881766715670&token=s3cret")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/obj/0?at=040d881766715670" {
		t.Fatalf("good token: %s, Location %q", res.Status, res.Header.Get("Location"))
	}
	cookies := res.Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookies %v", cookies)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookies[0])
	rec := httptest.NewRecorder()
	f.web.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("with the cookie: %d", rec.Code)
	}
}

// With LoopbackOnly, a request naming another host (a DNS name rebound
// to 127.0.0.1 by a hostile page) is refused.
func TestLoopbackOnly(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{LoopbackOnly: true})
	for host, want := range map[string]int{
		"127.0.0.1:8080":   http.StatusOK,
		"localhost:8080":   http.StatusOK,
		"[::1]:8080":       http.StatusOK,
		"evil.example:80":  http.StatusMisdirectedRequest,
		"10.0.0.1:8080":    http.StatusMisdirectedRequest,
		"localhost.evil:8": http.StatusMisdirectedRequest,
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		f.web.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

// Huge states and containers are cut, with a link that shows more.
func TestTruncation(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	big := make(pickle.List, 0, 3000)
	for i := range 3000 {
		big = append(big, int64(i))
	}
	long := strings.Repeat("é", 100000)
	oid, err := f.demo.Put(t.Context(), "myapp", "Big", pickle.DictOf("items", &big, "long", long))
	if err != nil {
		t.Fatal(err)
	}
	body := f.page(t, "/obj/"+oid.String())
	if !strings.Contains(body, "… 2950 more") || !strings.Contains(text(body), "(200000 bytes)") || len(body) > 200_000 {
		t.Fatalf("a big state is not cut (%d bytes):\n%.2000s", len(body), text(body))
	}
	more := f.page(t, linkByID(t, body, "show-more"))
	if !strings.Contains(more, "… 2500 more") || len(more) <= len(body) {
		t.Errorf("show more: %d bytes, %q", len(more), regexp.MustCompile(`… \d+ more`).FindString(more))
	}
}
