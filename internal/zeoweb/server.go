package zeoweb

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/zeo"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options configures a [Server].
type Options struct {
	// Token, when set, is required on every request: as ?token= once (the
	// server then sets a cookie and redirects to the URL without it) or
	// as that cookie.
	Token string
	// PageTimeout bounds the work of one page; 0 means 15 s. The live
	// feed's event stream is not a page and runs until the browser leaves.
	PageTimeout time.Duration
	// LoopbackOnly makes the server answer only requests whose Host is a
	// loopback name (localhost, 127.0.0.1, [::1]), so that a web page
	// elsewhere cannot reach it by pointing a DNS name at 127.0.0.1.
	LoopbackOnly bool
	// Logger receives request errors; nil discards them.
	Logger *slog.Logger
}

// Server serves the pages of one client's storage. Create it with [New].
type Server struct {
	client *zeo.Client
	db     *db.DB // reads snapshots for the container pages
	opts   Options
	pages  map[string]*template.Template
	mux    *http.ServeMux
	log    *slog.Logger
	status statusHub
}

// New returns a Server showing what client reads. The client should be
// registered read-only (zeo.Options.ReadOnly): the server never writes,
// and a read-only registration makes sure of it.
func New(client *zeo.Client, opts Options) (*Server, error) {
	if opts.PageTimeout <= 0 {
		opts.PageTimeout = 15 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{client: client, db: db.New(client, nil), opts: opts, pages: pages, mux: http.NewServeMux(), log: log}
	static, _ := fs.Sub(staticFiles, "static")
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.page("GET /{$}", s.serverPage)
	s.page("GET /obj/{oid}", s.objectPage)
	s.page("GET /obj/{oid}/items", s.itemsPage)
	s.page("GET /obj/{oid}/history", s.historyPage)
	s.page("GET /obj/{oid}/blob", s.blobDownload)
	s.page("GET /go", s.goPage)
	s.page("GET /txns", s.txnsPage)
	s.page("GET /live", s.livePage)
	s.mux.HandleFunc("GET /events", s.events)
	return s, nil
}

// NoteStatus passes a change of the client's connection status to the
// live feeds open in browsers, which show reconnects. Call it from
// zeo.Options.OnStatus; it does not block.
func (s *Server) NoteStatus(ev zeo.StatusEvent) { s.status.publish(ev) }

// securityHeaders are set on every response. The policy allows the
// embedded script and style sheet and nothing else: no inline script or
// style, no other origin, no framing, no plugins.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"X-Frame-Options":        "DENY",
	"Cache-Control":          "no-store",
}

// tokenCookie holds the access token once a ?token= URL was visited.
const tokenCookie = "zeoweb_token"

// ServeHTTP checks the host and the token, sets the security headers and
// serves the page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
	if s.opts.LoopbackOnly && !LoopbackHost(r.Host) {
		http.Error(w, "zeoweb answers only requests for localhost, 127.0.0.1 or [::1]", http.StatusMisdirectedRequest)
		return
	}
	if s.opts.Token != "" && !s.authorized(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// authorized checks the access token; a correct ?token= sets the cookie
// and redirects to the URL without it, so that the token does not stay in
// the address bar or the history.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if q := r.URL.Query(); q.Has("token") {
		if !sameSecret(q.Get("token"), s.opts.Token) {
			http.Error(w, "wrong access token", http.StatusUnauthorized)
			return false
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: s.opts.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	if c, err := r.Cookie(tokenCookie); err == nil && sameSecret(c.Value, s.opts.Token) {
		return true
	}
	http.Error(w, "this zeoweb needs its access token: open the URL it printed (with ?token=...)", http.StatusUnauthorized)
	return false
}

func sameSecret(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// LoopbackHost reports whether hostport (a Host header or a listening
// address, with or without its port) names this machine only: localhost
// or a loopback IP.
func LoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// pageFunc renders one page: it returns the template name and its data,
// or an error for the error page.
type pageFunc func(ctx context.Context, w http.ResponseWriter, r *http.Request, v view) (name string, data any, err error)

// page registers a page handler: it runs under the page deadline, with the
// view (the ?at= tid) parsed, and renders the template it names.
func (s *Server) page(pattern string, f pageFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.PageTimeout)
		defer cancel()
		v, err := parseView(r)
		name, data := "", any(nil)
		if err == nil {
			name, data, err = f(ctx, w, r, v)
		}
		if err != nil {
			s.fail(w, r, v, err)
			return
		}
		if name == "" { // the handler wrote the response itself
			return
		}
		s.render(w, http.StatusOK, name, data)
	})
}

// render executes a page template into a buffer first, so that a failure
// half-way does not send half a page.
func (s *Server) render(w http.ResponseWriter, code int, name string, data any) {
	var b bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&b, "layout", data); err != nil {
		s.log.Error("zeoweb: template", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// errorData is the error page's data.
type errorData struct {
	V       view
	Title   string
	Message string
	Hint    string
}

// fail shows the error page with a status that says what went wrong.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, v view, err error) {
	code, hint := http.StatusBadGateway, ""
	var nf *zeo.NotFoundError
	var bad *badRequest
	var limit *db.HistoryLimitError
	switch {
	case errors.As(err, &bad):
		code = http.StatusBadRequest
	case errors.As(err, &nf):
		code, hint = http.StatusNotFound, "The object does not exist at this point in time (it may be created later, or packed away)."
	case errors.As(err, &limit):
		hint = "This server has no loadBefore, so objects are read as of a transaction through their history, and this one changed more often since then than the history read goes back."
	case errors.Is(err, context.DeadlineExceeded):
		code, hint = http.StatusGatewayTimeout, "The page ran out of time. Big trees and old servers can be slow: try a smaller page or a more specific key."
	}
	s.log.Info("zeoweb: page failed", "url", r.URL.String(), "err", err)
	s.render(w, code, "error", errorData{V: v, Title: http.StatusText(code), Message: err.Error(), Hint: hint})
}

// badRequest is a request the server cannot make sense of.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badRequestf(msg string) error { return &badRequest{msg: msg} }

// statusHub passes connection status events to the open live feeds.
type statusHub struct {
	mu   sync.Mutex
	subs map[chan zeo.StatusEvent]struct{}
}

func (h *statusHub) subscribe() chan zeo.StatusEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs == nil {
		h.subs = make(map[chan zeo.StatusEvent]struct{})
	}
	ch := make(chan zeo.StatusEvent, 16)
	h.subs[ch] = struct{}{}
	return ch
}

func (h *statusHub) unsubscribe(ch chan zeo.StatusEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, ch)
}

// publish never blocks: a feed too slow to take an event misses it (the
// invalidation events that follow a reconnect still mark it).
func (h *statusHub) publish(ev zeo.StatusEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// query is url.Values with the pairs given.
func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}
