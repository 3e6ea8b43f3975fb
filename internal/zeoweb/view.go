package zeoweb

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gozeo/gozeo/zodb"
)

// view is what every page is viewed with: the point in time (?at=) and
// the request's own URL, from which it builds links that keep the time.
type view struct {
	// At is the tid the page is viewed as of; HasAt is false for the
	// present.
	At    zodb.TID
	HasAt bool
	path  string
	query url.Values
}

// parseView reads ?at= from the request.
func parseView(r *http.Request) (view, error) {
	v := view{path: r.URL.Path, query: r.URL.Query()}
	if s := v.query.Get("at"); s != "" {
		t, err := zodb.ParseTID(s)
		if err != nil {
			return view{path: v.path}, badRequestf("?at= must be a transaction id in hex: " + err.Error())
		}
		v.At, v.HasAt = t, true
	}
	return v, nil
}

// URL is path with the query pairs given (empty values are left out) and
// the view's tid, unless the pairs set another.
func (v view) URL(path string, kv ...string) string {
	q := query(kv...)
	if v.HasAt && !q.Has("at") {
		q.Set("at", v.At.String())
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Obj is the URL of an object's page.
func (v view) Obj(oid zodb.OID) string { return v.URL("/obj/" + oid.String()) }

// Here is the page's own URL with the query pairs given replaced (an
// empty value removes the pair).
func (v view) Here(kv ...string) string {
	q := url.Values{}
	for k, vs := range v.query {
		q[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return v.path
	}
	return v.path + "?" + q.Encode()
}

// Present is this page without ?at=.
func (v view) Present() string { return v.Here("at", "") }

// AtTID is the page as of tid.
func (v view) AtTID(tid zodb.TID) string { return v.Here("at", tid.String()) }

// Path is the request path, for forms that submit to the same page.
func (v view) Path() string { return v.path }

// Get is the value of a query parameter.
func (v view) Get(key string) string { return v.query.Get(key) }

// intParam reads a positive integer query parameter, def when absent,
// capped at max.
func (v view) intParam(key string, def, max int) (int, error) {
	s := v.query.Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, badRequestf("?" + key + "= must be a positive number")
	}
	return min(n, max), nil
}

// oidParam reads the {oid} path value.
func oidParam(r *http.Request) (zodb.OID, error) {
	oid, err := zodb.ParseOID(r.PathValue("oid"))
	if err != nil {
		return oid, badRequestf("not an object id: " + err.Error())
	}
	return oid, nil
}
