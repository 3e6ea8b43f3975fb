package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns a Chromium to drive: $ZEOWEB_CHROMIUM, or one on
// the PATH (Debian's chromium package installs /usr/bin/chromium).
func findChromium() string {
	if p := os.Getenv("ZEOWEB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile, or skips the
// test, loudly, when there is none.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium()
	if path == "" {
		msg := "SKIPPING the browser tests of zeoweb: no Chromium found (install Debian's chromium package, or set ZEOWEB_CHROMIUM)"
		fmt.Fprintln(os.Stderr, "\n*** "+msg+" ***")
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1100, 760),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// This network is closed: without these, Chromium's background
		// connections fail and hold up the pages.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// step runs one part of a browser test under a deadline, failing the test
// with what was being done.
func step(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// follow clicks what sel selects and waits for the page it leads to.
func follow(t *testing.T, ctx context.Context, what, sel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s (%s): %v", what, sel, err)
	}
	if res.Status != 200 {
		t.Fatalf("%s (%s): HTTP %d", what, sel, res.Status)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// screenshot saves the page as name.png in $ZEOWEB_SCREENSHOTS, or in
// the test's artifact directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("ZEOWEB_SCREENSHOTS")
	if dir == "" {
		dir = t.ArtifactDir()
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 {
		t.Fatalf("screenshot %s: only %d bytes", name, len(png))
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A user's tour of the demo in a real browser: follow references, page
// through a BTree, jump to a key, compare revisions, view the past, see
// stored markup stay text, find a blob's size and download link, and
// watch the live feed.
func TestBrowserTour(t *testing.T) {
	ctx := newBrowser(t)
	url, _ := startZeoweb(t, "-demo", "-listen", "127.0.0.1:0", "-demo-every", "300ms")
	base := strings.TrimSuffix(url, "/")

	step(t, ctx, "open the demo", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#negotiated")))
	if got := eval[string](t, ctx, `document.querySelector("#negotiated").textContent`); got != "Z5" {
		t.Errorf("negotiated %q", got)
	}
	screenshot(t, ctx, "server")

	// Follow references: the root, then the people BTree.
	follow(t, ctx, "open the root", "#root-link")
	if got := eval[string](t, ctx, `document.querySelector("#class").textContent`); got != "persistent.mapping.PersistentMapping" {
		t.Errorf("root class %q", got)
	}
	screenshot(t, ctx, "object")
	follow(t, ctx, "follow the reference to the people tree", `#state a.ref[href^="/obj/0000000000000001"]`)
	if got := eval[string](t, ctx, `document.querySelector("#class").textContent`); got != "BTrees.OOBTree.OOBTree" {
		t.Fatalf("followed to class %q", got)
	}

	// Page through the BTree.
	follow(t, ctx, "list the tree's items", "#items-link")
	firstKeys := `Array.from(document.querySelectorAll("#items td.key")).map(td => td.textContent)`
	page1 := eval[[]string](t, ctx, firstKeys)
	if got := eval[string](t, ctx, `document.querySelector("#length").textContent`); got != "120" || len(page1) != 50 || page1[0] != `"alice"` {
		t.Fatalf("first page: length %s, %d keys from %v", got, len(page1), page1[:min(3, len(page1))])
	}
	screenshot(t, ctx, "items")
	follow(t, ctx, "next page", "#next-page")
	page2 := eval[[]string](t, ctx, firstKeys)
	if len(page2) != 50 || page2[0] <= page1[49] {
		t.Errorf("second page starts at %v after %s", page2[:min(3, len(page2))], page1[49])
	}
	step(t, ctx, "type a key", chromedp.SendKeys(chromedp.CSS(`#jump-form input[name="key"]`), "user100"))
	follow(t, ctx, "jump to the key", "#jump-form button")
	if got := eval[[]string](t, ctx, firstKeys); len(got) == 0 || got[0] != `"user100"` {
		t.Errorf("after jumping to user100: %v", got)
	}

	// Open Bob by oid, compare his revisions, and view him as of the
	// older one.
	step(t, ctx, "type an oid", chromedp.SendKeys(chromedp.CSS(`#open-form input[name="oid"]`), "0x07"))
	follow(t, ctx, "open the object", "#open-form button")
	if state := eval[string](t, ctx, `document.querySelector("#state").textContent`); !strings.Contains(state, "bob@example.com") {
		t.Fatalf("Bob now: %s", state)
	}
	follow(t, ctx, "open the history", "#history-link")
	follow(t, ctx, "compare the two revisions", "#diff-button")
	del := eval[string](t, ctx, `Array.from(document.querySelectorAll("#diff .ddel")).map(s => s.textContent).join("\n")`)
	add := eval[string](t, ctx, `Array.from(document.querySelectorAll("#diff .dadd")).map(s => s.textContent).join("\n")`)
	if !strings.Contains(del, "bob@example.org") || !strings.Contains(add, "bob@example.com") {
		t.Errorf("diff: removed %q, added %q", del, add)
	}
	screenshot(t, ctx, "history")
	older := eval[string](t, ctx, `document.querySelectorAll('#history input[name="a"]')[1].value`)
	follow(t, ctx, "view Bob as of the older revision", `#history a[href*="at=`+older+`"]`)
	if banner := eval[string](t, ctx, `document.querySelector("#timetravel").textContent`); !strings.Contains(banner, older) {
		t.Errorf("time-travel banner %q lacks %s", banner, older)
	}
	if state := eval[string](t, ctx, `document.querySelector("#state").textContent`); !strings.Contains(state, "bob@example.org") {
		t.Errorf("Bob as of %s: %s", older, state)
	}
	follow(t, ctx, "follow Bob's friend in the past", `#state a.ref`)
	if loc := eval[string](t, ctx, `location.search`); !strings.Contains(loc, "at="+older) {
		t.Errorf("following a reference lost the tid: %s", loc)
	}

	// Stored markup stays text: the notes hold a script and an image
	// with an event handler.
	step(t, ctx, "open the notes", chromedp.Navigate(base+"/obj/4"), chromedp.WaitVisible(chromedp.CSS("#state")))
	if got := eval[string](t, ctx, `document.title + "|" + document.querySelectorAll("script").length + "|" + document.querySelectorAll("#state b, #state img, #state script").length`); got != "Object 0x04 · zeoweb|1|0" {
		t.Errorf("title|scripts|markup from the data = %q", got)
	}
	if state := eval[string](t, ctx, `document.querySelector("#state").textContent`); !strings.Contains(state, "<script>document.title='pwned'</script>") {
		t.Errorf("the stored script is not shown as text: %s", state)
	}

	// The blob: its size, and a link that downloads it.
	step(t, ctx, "open the blob", chromedp.Navigate(base+"/obj/5"), chromedp.WaitVisible(chromedp.CSS("#blob-size")))
	if got := eval[string](t, ctx, `document.querySelector("#blob-size").textContent + "|" + new URL(document.querySelector("#blob-download").href).pathname`); got != "70007|/obj/0000000000000005/blob" {
		t.Errorf("blob size|download path = %q", got)
	}
	screenshot(t, ctx, "blob")

	// The live feed: the demo commits every 300 ms.
	step(t, ctx, "open the live feed", chromedp.Navigate(base+"/live"),
		chromedp.Poll[chromedp.Void](`document.querySelector("#feed-status").textContent.startsWith("Listening")`),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#feed-rows tr.commit").length >= 2`))
	row := eval[string](t, ctx, `document.querySelector("#feed-rows tr.commit").textContent`)
	if !strings.Contains(row, "0x03") {
		t.Errorf("live feed row %q does not name the settings object 0x03", row)
	}
	screenshot(t, ctx, "live")
	follow(t, ctx, "open a transaction from the feed", "#feed-rows tr.commit a.tid")
	if got := eval[string](t, ctx, `document.querySelector("#txns").textContent`); !strings.Contains(got, "visit") {
		t.Errorf("transactions as of a live commit: %s", got)
	}
	screenshot(t, ctx, "txns")
}
