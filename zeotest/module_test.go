package zeotest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The proof that zeotest serves other modules: a module outside this
// repository, using gozeo through a replace directive, starts servers of
// two generations and runs a test against each. It builds offline from
// the module cache, with this repository's go.sum.
func TestUsableFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests another module")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/inventory\n\ngo 1.26\n\nrequire github.com/gozeo/gozeo v0.0.0\n\nreplace github.com/gozeo/gozeo => " + root + "\n",
		"go.sum": string(sum),
		"inventory.go": `// Package inventory keeps stock counts in a ZODB storage over ZEO.
package inventory

import (
	"context"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// Restock writes count as the record of item and returns the revision.
func Restock(ctx context.Context, c *zeo.Client, item zodb.OID, count string) (zodb.TID, error) {
	var serial zodb.TID
	if rev, err := c.Load(ctx, item); err == nil {
		serial = rev.Serial
	}
	return c.Commit(ctx, zeo.TxnMeta{User: "inventory"}, zeo.Write{OID: item, Serial: serial, Data: []byte(count)})
}
`,
		"inventory_test.go": `package inventory

import (
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeotest"
	"github.com/gozeo/gozeo/zodb"
)

func TestRestock(t *testing.T) {
	for _, p := range []zeotest.Profile{zeotest.Z308Py27, zeotest.Z5Py3} {
		t.Run(string(p), func(t *testing.T) {
			srv := zeotest.Start(t, &zeotest.Options{Profile: p})
			item := zodb.OIDFromUint64(1)
			if _, err := srv.SeedObject(t.Context(), item, "shop.Item", pickle.DictOf("count", int64(1))); err != nil {
				t.Fatal(err)
			}
			c := srv.Client(t, nil)
			tid, err := Restock(t.Context(), c, item, "42")
			if err != nil {
				t.Fatal(err)
			}
			rev, err := c.Load(t.Context(), item)
			if err != nil || string(rev.Data) != "42" || rev.Serial != tid {
				t.Fatalf("%s: loaded %q at %s, %v", p, rev.Data, rev.Serial, err)
			}
			t.Logf("%s: negotiated %s", p, c.Session().Negotiated)
		})
	}
}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "test", "-count=1", "-v", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GONOSUMDB=*", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test in the other module: %v\n%s", err, out)
	}
	for _, want := range []string{"z308-py27: negotiated Z308", "z5-py3: negotiated Z5", "--- PASS: TestRestock"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
