package zeoweb

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo"
)

// Every page against every server generation, over the demo database, as
// a user clicks through it.
func TestPagesEveryGeneration(t *testing.T) {
	for _, profile := range testserver.ProfileNames() {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, profile, Options{})
			d := f.demo

			// The server page says what was negotiated, and that the
			// registration is read-only.
			body := f.page(t, "/")
			if s := f.client.Session(); !strings.Contains(text(body), string(s.Negotiated)) || !strings.Contains(body, "registered read-only") {
				t.Errorf("server page does not show %s and the read-only registration:\n%s", s.Negotiated, text(body))
			}

			// The root links the people tree; weak and cross-database
			// references are marked.
			root := f.page(t, "/obj/0")
			if !strings.Contains(root, `<span class="tag">weak</span>`) || !strings.Contains(text(root), `in database "archive"`) {
				t.Errorf("root page does not mark the weak and cross-database references:\n%s", text(root))
			}
			peopleURL := "/obj/" + d.People.String()
			if !contains(links(root), peopleURL) {
				t.Fatalf("root page has no link to %s: %v", peopleURL, links(root))
			}
			people := f.page(t, peopleURL)
			if !strings.Contains(text(people), "BTrees.OOBTree.OOBTree") {
				t.Errorf("people page: %s", text(people))
			}

			// Items: the length, pages in key order, jump to key.
			items := f.page(t, linkByID(t, people, "items-link"))
			if got := lengthOf(t, items); got != "120" {
				t.Errorf("people length %q, want 120", got)
			}
			keys := keysOf(items)
			if len(keys) != defaultPage || keys[0] != `"alice"` && keys[0] != `u"alice"` && keys[0] != `'alice'` {
				t.Errorf("first page keys: %v", keys)
			}
			next := f.page(t, linkByID(t, items, "next-page"))
			if k := keysOf(next); len(k) != defaultPage || unquote(k[0]) <= unquote(keys[len(keys)-1]) {
				t.Errorf("second page keys %v after %v", k, keys[len(keys)-1])
			}
			jumped := f.page(t, "/obj/"+d.People.String()+"/items?key=user100")
			if k := keysOf(jumped); len(k) != 20 || unquote(k[0]) != "user100" || unquote(k[19]) != "user119" {
				t.Errorf("jump to user100: %v", k)
			}
			counters := f.page(t, "/obj/"+d.Counters.String()+"/items?key=700&n=3")
			if got, k := lengthOf(t, counters), keysOf(counters); got != "3000" || strings.Join(k, " ") != "700 707 714" {
				t.Errorf("counters: length %s, keys from 700: %v", got, k)
			}

			// History and a diff of Bob's two revisions.
			bob := "/obj/" + d.Bob.String()
			hist := f.page(t, bob+"/history")
			if !strings.Contains(hist, "change my email address") || !strings.Contains(hist, d.Created.String()) {
				t.Errorf("history of Bob: %s", text(hist))
			}
			diff := text(f.page(t, bob+"/history?a="+d.Created.String()+"&b="+d.BobChanged.String()))
			if !regexp.MustCompile(`(?m)^- +u?["']email["']: u?["']bob@example.org["']$`).MatchString(diff) ||
				!regexp.MustCompile(`(?m)^\+ +u?["']email["']: u?["']bob@example.com["']$`).MatchString(diff) {
				t.Errorf("diff of Bob's revisions:\n%s", diff)
			}

			// Time travel: Bob as of the first transaction has his old
			// email, and every object link keeps the tid.
			old := f.page(t, bob+"?at="+d.Created.String())
			if !strings.Contains(text(old), "bob@example.org") || strings.Contains(text(old), "bob@example.com") {
				t.Errorf("Bob as of %s:\n%s", d.Created, text(old))
			}
			for _, l := range links(old) {
				if l != bob && strings.HasPrefix(l, "/obj/") && !strings.Contains(l, "at=") { // bob: "back to the present"
					t.Errorf("link %s on a page as of %s drops the tid", l, d.Created)
				}
			}
			if now := f.page(t, bob); !strings.Contains(text(now), "bob@example.com") {
				t.Errorf("Bob now:\n%s", text(now))
			}

			// Transactions: through the iterator, the undo log, or a note.
			txns := text(f.page(t, "/txns"))
			iter := f.client.Supports(zeo.OpIterator)
			undo := f.client.Supports(zeo.OpUndoLog)
			switch {
			case iter:
				if !strings.Contains(txns, "change my email address") || !strings.Contains(txns, d.Bob.Repr()) {
					t.Errorf("transactions (iterator):\n%s", txns)
				}
			case undo:
				if !strings.Contains(txns, "no transaction iterator") || !strings.Contains(txns, "change my email address") {
					t.Errorf("transactions (undo log):\n%s", txns)
				}
			default:
				if !strings.Contains(txns, "neither a transaction iterator nor an undo log") {
					t.Errorf("transactions (none):\n%s", txns)
				}
			}

			// The blob object says what it is.
			if blob := text(f.page(t, "/obj/"+d.Report.String())); !strings.Contains(blob, "ZODB blob") {
				t.Errorf("blob page:\n%s", blob)
			}
			f.page(t, "/live")
		})
	}
}

// unquote is a key's repr without its quotes.
func unquote(s string) string {
	s = strings.TrimPrefix(s, "u")
	return strings.Trim(s, `"'`)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var (
	lengthRE = regexp.MustCompile(`id="length">([^<]*)<`)
	keyRE    = regexp.MustCompile(`<td class="key"><span class="[a-z]*">([^<]*)</span>`)
)

func lengthOf(t *testing.T, body string) string {
	t.Helper()
	m := lengthRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no length in\n%s", text(body))
	}
	return m[1]
}

func keysOf(body string) []string {
	var out []string
	for _, m := range keyRE.FindAllStringSubmatch(body, -1) {
		out = append(out, text(m[1]))
	}
	return out
}

// The pages that go past the server's transactions list: older
// transactions, and the transactions as of a tid.
func TestTransactionsPaging(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	for range 5 {
		if _, err := f.demo.Visit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	body := f.page(t, "/txns?n=3")
	if got := strings.Count(body, "visit "); got != 3 || !strings.Contains(body, "visit 5") {
		t.Fatalf("first page of 3: %d visits\n%s", got, text(body))
	}
	older := f.page(t, linkByID(t, body, "older"))
	if !strings.Contains(older, "visit 2") || !strings.Contains(older, "change my email address") || strings.Contains(older, "visit 3") {
		t.Errorf("older page:\n%s", text(older))
	}
	past := f.page(t, "/txns?at="+f.demo.BobChanged.String())
	if strings.Contains(past, "visit ") || !strings.Contains(past, "change my email address") {
		t.Errorf("transactions as of %s:\n%s", f.demo.BobChanged, text(past))
	}
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	for _, tc := range []struct {
		url  string
		code int
	}{
		{"/obj/xyz", http.StatusBadRequest},
		{"/obj/0?at=nope", http.StatusBadRequest},
		{"/obj/ffffff", http.StatusNotFound},
		{"/obj/" + f.demo.Bob.String() + "?at=0000000000000001", http.StatusNotFound},
		{"/obj/" + f.demo.Bob.String() + "/items", http.StatusBadRequest},
		{"/obj/" + f.demo.People.String() + "/items?from=!!", http.StatusBadRequest},
		{"/obj/0?more=-1", http.StatusBadRequest},
		{"/go?oid=0x" + f.demo.Bob.String(), http.StatusSeeOther},
		{"/nowhere", http.StatusNotFound},
	} {
		res, body := f.get(t, tc.url)
		if res.StatusCode != tc.code {
			t.Errorf("GET %s: %s, want %d\n%s", tc.url, res.Status, tc.code, text(body))
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", tc.url)
		}
	}
}

// A page that takes longer than its deadline ends with a page saying so,
// not a hang.
func TestPageDeadline(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{PageTimeout: 200 * 1e6})
	f.demo.Server.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: "history", Action: testserver.FaultDelayReply, Delay: 2e9}}})
	res, body := f.get(t, "/obj/0/history")
	if res.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body, "ran out of time") {
		t.Errorf("slow history: %s\n%s", res.Status, text(body))
	}
}

// An old revision shows when it was replaced; "view as of" links are
// there for both.
func TestObjectReplacedBy(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	body := text(f.page(t, "/obj/"+f.demo.Bob.String()+"?at="+f.demo.Created.String()))
	if !strings.Contains(body, "Replaced by") || !strings.Contains(body, f.demo.BobChanged.String()) {
		t.Errorf("old revision of Bob:\n%s", body)
	}
}

// The items page of the counters tree (3000 items in 99 buckets under
// its root node) from a key: a page of 50 items and the length, which reads
// every bucket. The client's cache holds the objects after the first.
func BenchmarkItemsPage(b *testing.B) {
	for _, profile := range []string{"z5-py3", "z201-py24"} {
		b.Run(profile, func(b *testing.B) {
			f := newFixture(b, profile, Options{})
			u := "/obj/" + f.demo.Counters.String() + "/items?key=700&n=50"
			for b.Loop() {
				if res, body := f.get(b, u); res.StatusCode != http.StatusOK || !strings.Contains(body, `id="length">3000<`) {
					b.Fatalf("%s: %s", u, res.Status)
				}
			}
		})
	}
}

// The history as of a tid lists the revisions up to it, however many
// were written after it, and offers older ones only when there are.
func TestHistoryAsOf(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	d := f.demo
	var visits []string
	for range 3 {
		tid, err := d.Visit(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		visits = append(visits, tid.String())
	}
	settings := "/obj/" + d.Settings.String() + "/history?n=1&at="
	for _, tc := range []struct {
		at, want string
		older    bool
	}{
		{d.Created.String(), d.Created.String(), false},
		{visits[0], visits[0], true},
		{visits[2], visits[2], true},
	} {
		body := f.page(t, settings+tc.at)
		rows := regexp.MustCompile(`<code>([0-9a-f]{16})</code></a></td>`).FindAllStringSubmatch(body, -1)
		if len(rows) != 1 || rows[0][1] != tc.want || strings.Contains(body, "Older revisions") != tc.older {
			t.Errorf("history of the settings as of %s, one per page: %v, older link %v; want %s, %v\n%s",
				tc.at, rows, strings.Contains(body, "Older revisions"), tc.want, tc.older, text(body))
		}
	}
}

// Mappings and lists held in one record have an items page, in the
// Python 2 and 3 formats, and in ZODB 3.0's "_container" form.
func TestHeldContainers(t *testing.T) {
	for _, profile := range []string{"z5-py3", "z3101-py27"} {
		t.Run(profile, func(t *testing.T) {
			f := newFixture(t, profile, Options{})
			d := f.demo
			root := f.page(t, "/obj/0/items")
			if got, k := lengthOf(t, root), keysOf(root); got != "7" || len(k) != 7 || unquote(k[0]) != "archive" {
				t.Errorf("root mapping: length %s, keys %v", got, k)
			}
			notes := f.page(t, "/obj/"+d.Notes.String()+"/items")
			if got, k := lengthOf(t, notes), keysOf(notes); got != "3" || strings.Join(k, " ") != "0 1 2" {
				t.Errorf("notes list: length %s, positions %v", got, k)
			}
			old, err := d.Put(t.Context(), "ZODB.PersistentMapping", "PersistentMapping",
				pickle.DictOf("_container", pickle.DictOf("b", int64(2), "a", int64(1))))
			if err != nil {
				t.Fatal(err)
			}
			held := f.page(t, "/obj/"+old.String()+"/items")
			if got, k := lengthOf(t, held), keysOf(held); got != "2" || len(k) != 2 || unquote(k[0]) != "a" {
				t.Errorf("ZODB 3.0 mapping: length %s, keys %v", got, k)
			}
		})
	}
}
