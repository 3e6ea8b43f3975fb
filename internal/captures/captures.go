// Package captures gives tests the wire captures of real ZEO servers
// (testdata/README.md says what each holds): one copy of the files,
// embedded, and one loader. A capture a test names but that is missing is
// a test failure, never a skip; the files are compiled in, so a checkout
// without them does not build.
package captures

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
)

//go:embed testdata/*.jsonl testdata/*.log
var files embed.FS

// Frame is one frame of a capture.
type Frame struct {
	// T is the time since the recording started, in seconds.
	T float64
	// Conn numbers the connection within the capture, from 1.
	Conn int
	// Dir is "c2s" (client to server) or "s2c".
	Dir string
	// Payload is the frame without its length prefix. The first frame
	// of each direction is the raw version string.
	Payload []byte
	// MAC is the 20-byte HMAC of an authenticated frame, nil otherwise.
	MAC []byte
}

// Names returns the name of every capture, e.g. "zeo5-load", sorted.
func Names() []string {
	entries, _ := fs.Glob(files, "testdata/*.jsonl")
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = strings.TrimSuffix(path.Base(e), ".jsonl")
	}
	slices.Sort(names)
	return names
}

// Load reads the frames of the capture name, in wire order.
func Load(name string) ([]Frame, error) {
	data, err := files.ReadFile("testdata/" + name + ".jsonl")
	if err != nil {
		return nil, fmt.Errorf("captures: no capture %q: %w", name, err)
	}
	var frames []Frame
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for line := 1; sc.Scan(); line++ {
		var rec struct {
			T    float64 `json:"t"`
			Conn int     `json:"conn"`
			Dir  string  `json:"dir"`
			Hex  string  `json:"hex"`
			MAC  string  `json:"mac"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("captures: %s line %d: %w", name, line, err)
		}
		f := Frame{T: rec.T, Conn: rec.Conn, Dir: rec.Dir}
		if f.Payload, err = hex.DecodeString(rec.Hex); err != nil {
			return nil, fmt.Errorf("captures: %s line %d: %w", name, line, err)
		}
		if rec.MAC != "" {
			if f.MAC, err = hex.DecodeString(rec.MAC); err != nil {
				return nil, fmt.Errorf("captures: %s line %d: %w", name, line, err)
			}
		}
		frames = append(frames, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("captures: %s: %w", name, err)
	}
	return frames, nil
}

// MustLoad is Load failing tb on error.
func MustLoad(tb testing.TB, name string) []Frame {
	tb.Helper()
	frames, err := Load(name)
	if err != nil {
		tb.Fatal(err)
	}
	return frames
}

// Log returns the capture's .log file: what the Python client did and
// saw.
func Log(name string) ([]byte, error) {
	b, err := files.ReadFile("testdata/" + name + ".log")
	if err != nil {
		return nil, fmt.Errorf("captures: no log for %q: %w", name, err)
	}
	return b, nil
}

// StreamKey names one direction of one connection.
type StreamKey struct {
	Conn int
	Dir  string
}

// Streams groups frames by connection and direction, in wire order.
func Streams(frames []Frame) map[StreamKey][]Frame {
	streams := make(map[StreamKey][]Frame)
	for _, f := range frames {
		k := StreamKey{f.Conn, f.Dir}
		streams[k] = append(streams[k], f)
	}
	return streams
}
