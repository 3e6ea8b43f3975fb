package captures

import (
	"strings"
	"testing"
)

// Every capture loads, begins each direction of each connection with a
// version string, and the set is the one the README describes.
func TestEveryCaptureLoads(t *testing.T) {
	names := Names()
	if len(names) < 40 {
		t.Fatalf("only %d captures embedded", len(names))
	}
	for _, name := range names {
		frames := MustLoad(t, name)
		for k, s := range Streams(frames) {
			if v := string(s[0].Payload); len(v) < 2 || len(v) > 5 || (v[0] != 'Z' && v[0] != 'M') {
				t.Errorf("%s conn %d %s: first frame %q is not a version", name, k.Conn, k.Dir, v)
			}
		}
		if strings.Contains(name, "auth") && !hasMAC(frames) {
			t.Errorf("%s: an authenticated capture without MAC'd frames", name)
		}
	}
}

func hasMAC(frames []Frame) bool {
	for _, f := range frames {
		if f.MAC != nil {
			return true
		}
	}
	return false
}

// A capture that is not there is an error, never an empty capture.
func TestMissingCapture(t *testing.T) {
	if _, err := Load("zeo9-nothing"); err == nil {
		t.Fatal("a missing capture loaded")
	}
	if _, err := Log("zeo5-longgap"); err == nil {
		t.Fatal("a log that does not exist was found")
	}
}
