package zrpc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func frameBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFrames writes payloads with a fresh FrameWriter (MAC'd under key
// when key is not nil) and returns the wire bytes.
func writeFrames(t testing.TB, key []byte, payloads ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	fw := NewFrameWriter(&out)
	fw.SetMACKey(key)
	for _, p := range payloads {
		if err := fw.WriteFrame(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestFrameWireFormat(t *testing.T) {
	// docs/protocol.md, Framing: the version frames of a 3.10 and a ZEO 5
	// server.
	if got, want := writeFrames(t, nil, []byte("Z3101")), frameBytes(t, "00000005 5a33313031"); !bytes.Equal(got, want) {
		t.Errorf("Z3101 frame = %x, want %x", got, want)
	}
	if got, want := writeFrames(t, nil, []byte("Z5"), nil), frameBytes(t, "00000002 5a35 00000000"); !bytes.Equal(got, want) {
		t.Errorf("Z5 + empty frame = %x, want %x", got, want)
	}
}

func TestFrameRoundTrip(t *testing.T) {
	sizes := []int{0, 1, 5, 1000, payloadChunk - 1, payloadChunk, payloadChunk + 1, writeBufferSize + 7, 3<<20 + 5}
	for _, mac := range []bool{false, true} {
		var key []byte
		if mac {
			key = DigestSessionKey(DigestHash("alice", "zeo", "secret"), "nonce")
		}
		var payloads [][]byte
		for i, n := range sizes {
			p := make([]byte, n)
			for j := range p {
				p[j] = byte(i + j*7)
			}
			payloads = append(payloads, p)
		}
		wire := writeFrames(t, key, payloads...)
		fr := NewFrameReader(bytes.NewReader(wire))
		fr.SetMACKey(key)
		for i, want := range payloads {
			got, err := fr.ReadFrame()
			if err != nil {
				t.Fatalf("mac=%v frame %d (%d bytes): %v", mac, i, len(want), err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("mac=%v frame %d (%d bytes): payload differs", mac, i, len(want))
			}
		}
		if _, err := fr.ReadFrame(); err != io.EOF {
			t.Fatalf("mac=%v: at end got %v, want io.EOF", mac, err)
		}
	}
}

// The returned payload is the caller's: reading the next frame does not
// overwrite it.
func TestReadFramePayloadIsFresh(t *testing.T) {
	fr := NewFrameReader(bytes.NewReader(writeFrames(t, nil, []byte("first"), []byte("secnd"))))
	a, _ := fr.ReadFrame()
	b, _ := fr.ReadFrame()
	if string(a) != "first" || string(b) != "secnd" {
		t.Fatalf("got %q, %q", a, b)
	}
}

// The digest vector (docs/protocol.md, Test vectors): session key of
// alice/zeo/secret, the first two MAC'd client frames.
func TestMACProtocolVector(t *testing.T) {
	hup := DigestHash("alice", "zeo", "secret")
	key := DigestSessionKey(hup, "7c026d4d47713939267cbc06c37ca8c996d2a027")
	p1 := []byte("(K\x03K\x00U\x08register(U\x011I00\ntt.")
	p2 := []byte("(K\x04K\x00U\x0flastTransaction)t.")
	wire := writeFrames(t, key, p1, p2)
	want1 := frameBytes(t, "8000001a e463b61ad17efcbd2b6664e2193b68e0c94d36bd 284b034b0055087265676973746572285501314930300a74742e")
	if !bytes.HasPrefix(wire, want1) {
		t.Fatalf("first MAC'd frame = %x\nwant %x", wire[:len(want1)], want1)
	}
	rest := wire[len(want1):]
	if got := hex.EncodeToString(rest[4 : 4+MACSize]); got != "ebe128bfb6ade12760cae8d3e07d5cdeeac7653f" {
		t.Errorf("second MAC = %s, want ebe128bf… (HMAC over both payloads)", got)
	}
	fr := NewFrameReader(bytes.NewReader(wire))
	fr.SetMACKey(key)
	for _, want := range [][]byte{p1, p2} {
		got, err := fr.ReadFrame()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadFrame = %q, %v; want %q", got, err, want)
		}
	}
}

func TestMACMissingIsRefused(t *testing.T) {
	key := []byte("key")
	wire := writeFrames(t, nil, []byte("(plain)"))
	fr := NewFrameReader(bytes.NewReader(wire))
	fr.SetMACKey(key)
	_, err := fr.ReadFrame()
	if !errors.Is(err, ErrMACMissing) {
		t.Fatalf("unflagged frame under a key: got %v, want ErrMACMissing", err)
	}
	if !strings.Contains(err.Error(), "no MAC") {
		t.Errorf("message does not say what happened: %v", err)
	}
	// The stream is out of step: the error sticks.
	if _, err2 := fr.ReadFrame(); !errors.Is(err2, ErrMACMissing) {
		t.Fatalf("second read: got %v, want the same error", err2)
	}
}

func TestMACMismatch(t *testing.T) {
	key := []byte("key")
	p := []byte("(K\x01K\x00U\x06.replyNt.)")
	cases := map[string]func(wire []byte) []byte{
		"altered payload": func(w []byte) []byte { w[4+MACSize] ^= 1; return w },
		"altered MAC":     func(w []byte) []byte { w[4] ^= 0x80; return w },
		"frame dropped": func(w []byte) []byte {
			// Drop the first of two frames: the second's MAC covers both.
			return w[4+MACSize+len(p):]
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			wire := mutate(writeFrames(t, key, p, p))
			fr := NewFrameReader(bytes.NewReader(wire))
			fr.SetMACKey(key)
			_, err := fr.ReadFrame()
			var fe *FrameError
			if !errors.Is(err, ErrMACMismatch) || !errors.As(err, &fe) {
				t.Fatalf("got %v, want ErrMACMismatch", err)
			}
			if fe.Seq != 1 || fe.Size != int64(len(p)) || !strings.Contains(err.Error(), "received ") {
				t.Errorf("error lacks detail: %+v: %v", fe, err)
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		fr := NewFrameReader(bytes.NewReader(writeFrames(t, key, p)))
		fr.SetMACKey([]byte("other"))
		if _, err := fr.ReadFrame(); !errors.Is(err, ErrMACMismatch) {
			t.Fatalf("got %v, want ErrMACMismatch", err)
		}
	})
}

// A MAC'd frame while no key is installed: the MAC is skipped unchecked,
// as ZEO's reader does (docs/protocol.md, MAC'd frames).
func TestMACIgnoredWithoutKey(t *testing.T) {
	wire := writeFrames(t, []byte("some key"), []byte("one"), []byte("two"))
	fr := NewFrameReader(bytes.NewReader(wire))
	for _, want := range []string{"one", "two"} {
		got, err := fr.ReadFrame()
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
}

// SetMACKey(nil) switches MAC mode off; a new key starts a new chain.
func TestMACKeyReset(t *testing.T) {
	var out bytes.Buffer
	fw := NewFrameWriter(&out)
	fw.SetMACKey([]byte("k1"))
	fw.WriteFrame([]byte("a"))
	fw.SetMACKey(nil)
	fw.WriteFrame([]byte("b"))
	fw.SetMACKey([]byte("k1"))
	fw.WriteFrame([]byte("c"))
	fw.Flush()
	// The third frame's MAC covers "c" alone: equal to a fresh chain's.
	fresh := writeFrames(t, []byte("k1"), []byte("c"))
	if !bytes.HasSuffix(out.Bytes(), fresh) {
		t.Fatalf("a new key did not start a new chain: %x", out.Bytes())
	}
	fr := NewFrameReader(bytes.NewReader(out.Bytes()))
	fr.SetMACKey([]byte("k1"))
	if got, err := fr.ReadFrame(); err != nil || string(got) != "a" {
		t.Fatalf("got %q, %v", got, err)
	}
	fr.SetMACKey(nil)
	if got, err := fr.ReadFrame(); err != nil || string(got) != "b" {
		t.Fatalf("got %q, %v", got, err)
	}
	fr.SetMACKey([]byte("k1"))
	if got, err := fr.ReadFrame(); err != nil || string(got) != "c" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// A key installed from another goroutine while ReadFrame waits for the
// next frame applies to that frame (the auth_response case).
func TestSetMACKeyWhileReading(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	fr := NewFrameReader(c1)
	type result struct {
		p   []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		p, err := fr.ReadFrame()
		res <- result{p, err}
	}()
	key := []byte("session")
	fr.SetMACKey(key)
	fw := NewFrameWriter(c2)
	fw.SetMACKey(key)
	if err := fw.WriteFrame([]byte("register")); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || string(r.p) != "register" {
		t.Fatalf("got %q, %v", r.p, r.err)
	}
}

func TestFrameTooLarge(t *testing.T) {
	fr := NewFrameReader(bytes.NewReader(writeFrames(t, nil, make([]byte, 11))))
	fr.SetMaxFrameSize(10)
	_, err := fr.ReadFrame()
	var fe *FrameError
	if !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &fe) || fe.Size != 11 {
		t.Fatalf("got %v, want ErrFrameTooLarge for 11 bytes", err)
	}
	if !strings.Contains(err.Error(), "limit of 10 bytes") {
		t.Errorf("message does not give the limit: %v", err)
	}
	// At the limit is fine.
	fr = NewFrameReader(bytes.NewReader(writeFrames(t, nil, make([]byte, 10))))
	fr.SetMaxFrameSize(10)
	if _, err := fr.ReadFrame(); err != nil {
		t.Fatal(err)
	}
}

// Non-ZEO peers produce absurd lengths; the message says what the bytes
// look like.
func TestFrameTooLargeHints(t *testing.T) {
	cases := map[string]struct {
		wire string
		hint string
	}{
		"http": {"HTTP/1.1 400 Bad Request\r\n\r\n", "reads as text 'HTTP'"},
		"tls":  {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "TLS handshake record"},
	}
	for name, c := range cases {
		fr := NewFrameReader(strings.NewReader(c.wire))
		_, err := fr.ReadFrame()
		if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), c.hint) {
			t.Errorf("%s: got %v, want ErrFrameTooLarge mentioning %q", name, err, c.hint)
		}
	}
}

func TestSetMaxFrameSizeBounds(t *testing.T) {
	fr := NewFrameReader(strings.NewReader(""))
	if fr.MaxFrameSize() != DefaultMaxFrameSize {
		t.Errorf("default = %d", fr.MaxFrameSize())
	}
	fr.SetMaxFrameSize(1 << 40)
	if fr.MaxFrameSize() != MaxFramePayload {
		t.Errorf("capped = %d, want %d", fr.MaxFrameSize(), MaxFramePayload)
	}
	fr.SetMaxFrameSize(0)
	if fr.MaxFrameSize() != DefaultMaxFrameSize {
		t.Errorf("reset = %d", fr.MaxFrameSize())
	}
}

func TestFrameTruncated(t *testing.T) {
	full := writeFrames(t, []byte("k"), []byte("0123456789"))
	cases := map[string]struct {
		wire []byte
		mac  bool
		size int64
		got  int64
	}{
		"inside prefix":  {full[:2], false, -1, 2},
		"inside MAC":     {full[:4+7], false, 10, 11},
		"inside payload": {full[:4+MACSize+3], true, 10, 4 + MACSize + 3},
		"no payload":     {full[:4+MACSize], true, 10, 4 + MACSize},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			fr := NewFrameReader(bytes.NewReader(c.wire))
			if c.mac {
				fr.SetMACKey([]byte("k"))
			}
			_, err := fr.ReadFrame()
			var fe *FrameError
			if !errors.Is(err, ErrFrameTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) || !errors.As(err, &fe) {
				t.Fatalf("got %v, want ErrFrameTruncated matching io.ErrUnexpectedEOF", err)
			}
			if fe.Size != c.size || fe.Got != c.got {
				t.Errorf("Size, Got = %d, %d; want %d, %d", fe.Size, fe.Got, c.size, c.got)
			}
			if !strings.Contains(err.Error(), "closed the connection") {
				t.Errorf("message: %v", err)
			}
		})
	}
}

// measureAlloc returns the bytes allocated while f runs.
func measureAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A hostile length prefix does not make the reader allocate what it
// claims: memory follows the bytes that actually arrive.
func TestHostileLengthBoundedMemory(t *testing.T) {
	cases := []struct {
		name    string
		prefix  string // length prefix, hex
		sent    int    // payload bytes that follow
		maxSize int    // SetMaxFrameSize
		limit   uint64 // allocation allowed
	}{
		{"2 GiB claimed, 6 bytes sent", "7fffffff", 6, MaxFramePayload, 1 << 20},
		{"4 GiB prefix (MAC bit), 6 bytes sent", "ffffffff", 6, MaxFramePayload, 1 << 20},
		{"100 MiB claimed, 1 MiB sent", "06400000", 1 << 20, 0, 8 << 20},
		{"100 MiB claimed, just under an eighth sent", "06400000", 100<<20/8 - 1, 0, 32 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := append(frameBytes(t, c.prefix), make([]byte, c.sent)...)
			var err error
			alloc := measureAlloc(func() {
				fr := NewFrameReader(bytes.NewReader(wire))
				fr.SetMaxFrameSize(c.maxSize)
				_, err = fr.ReadFrame()
			})
			if !errors.Is(err, ErrFrameTruncated) {
				t.Fatalf("got %v, want ErrFrameTruncated", err)
			}
			if alloc > c.limit {
				t.Fatalf("allocated %d bytes for %d bytes received (limit %d)", alloc, len(wire), c.limit)
			}
		})
	}
	t.Run("over the default limit", func(t *testing.T) {
		var err error
		alloc := measureAlloc(func() {
			_, err = NewFrameReader(bytes.NewReader(frameBytes(t, "7fffffff 0102030405"))).ReadFrame()
		})
		if !errors.Is(err, ErrFrameTooLarge) || alloc > 1<<20 {
			t.Fatalf("got %v after %d bytes allocated, want ErrFrameTooLarge at once", err, alloc)
		}
	})
}

// A genuine large frame costs little more than its size: the reader
// allocates the whole payload once an eighth of it has arrived rather
// than growing a buffer step by step.
func TestLargeFrameAllocatesAboutItsSize(t *testing.T) {
	const size = 16 << 20
	wire := writeFrames(t, nil, make([]byte, size))
	var got []byte
	var err error
	alloc := measureAlloc(func() {
		got, err = NewFrameReader(bytes.NewReader(wire)).ReadFrame()
	})
	if err != nil || len(got) != size {
		t.Fatalf("ReadFrame: %d bytes, %v", len(got), err)
	}
	if limit := uint64(size + size/4); alloc > limit {
		t.Fatalf("allocated %d bytes for a %d-byte frame (limit %d)", alloc, size, limit)
	}
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// Small frames are coalesced until Flush; a large one goes out at once
// without waiting.
func TestFrameWriterCoalesces(t *testing.T) {
	var w countingWriter
	fw := NewFrameWriter(&w)
	small := []byte("(K\x00K\x01U\x06storea)t.")
	for i := 0; i < 100; i++ {
		if err := fw.WriteFrame(small); err != nil {
			t.Fatal(err)
		}
	}
	if w.writes != 0 || fw.Buffered() != 100*(4+len(small)) {
		t.Fatalf("before Flush: %d writes, %d buffered", w.writes, fw.Buffered())
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 || fw.Buffered() != 0 || w.Len() != 100*(4+len(small)) {
		t.Fatalf("after Flush: %d writes, %d buffered, %d written", w.writes, fw.Buffered(), w.Len())
	}

	// Enough small frames to overflow the buffer flush on their own.
	w = countingWriter{}
	fw = NewFrameWriter(&w)
	frame := make([]byte, 1000)
	for i := 0; i < 200; i++ {
		fw.WriteFrame(frame)
	}
	if w.writes == 0 || fw.Buffered() > writeBufferSize {
		t.Fatalf("buffer overflowed without writing: %d writes, %d buffered", w.writes, fw.Buffered())
	}
	fw.Flush()
	fr := NewFrameReader(bytes.NewReader(w.Bytes()))
	for i := 0; i < 200; i++ {
		if p, err := fr.ReadFrame(); err != nil || len(p) != 1000 {
			t.Fatalf("frame %d: %d bytes, %v", i, len(p), err)
		}
	}

	// A large payload is written by WriteFrame itself, after what was
	// buffered, and the caller's slice is not retained.
	w = countingWriter{}
	fw = NewFrameWriter(&w)
	fw.WriteFrame([]byte("small"))
	big := bytes.Repeat([]byte{7}, 1<<20)
	if err := fw.WriteFrame(big); err != nil {
		t.Fatal(err)
	}
	if fw.Buffered() != 0 || w.Len() != 4+5+4+len(big) {
		t.Fatalf("large frame: %d buffered, %d written", fw.Buffered(), w.Len())
	}
	big[0] = 8
	fr = NewFrameReader(bytes.NewReader(w.Bytes()))
	if p, _ := fr.ReadFrame(); string(p) != "small" {
		t.Fatalf("first frame %q", p)
	}
	if p, _ := fr.ReadFrame(); len(p) != len(big) || p[0] != 7 {
		t.Fatalf("large frame corrupted")
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errors.New("broken pipe") }

func TestFrameWriterErrorSticks(t *testing.T) {
	fw := NewFrameWriter(failingWriter{})
	if err := fw.WriteFrame([]byte("x")); err != nil {
		t.Fatalf("buffered write failed early: %v", err)
	}
	err := fw.Flush()
	var fe *FrameError
	if err == nil || !errors.As(err, &fe) || fe.Op != "write" || !strings.Contains(err.Error(), "broken pipe") {
		t.Fatalf("Flush: got %v", err)
	}
	if err2 := fw.WriteFrame([]byte("y")); err2 != err {
		t.Fatalf("after a failure WriteFrame returned %v, want the same error", err2)
	}
}

// A payload that does not fit in 31 bits is refused (the check WriteFrame
// makes before touching the payload; a 2 GiB slice is too big for a test).
func TestFramePayloadSizeLimit(t *testing.T) {
	if err := checkPayloadSize(MaxFramePayload); err != nil {
		t.Fatalf("largest payload refused: %v", err)
	}
	err := checkPayloadSize(MaxFramePayload + 1)
	if !errors.Is(err, ErrFrameTooLarge) || !strings.Contains(err.Error(), "MAC flag") {
		t.Fatalf("got %v, want ErrFrameTooLarge explaining the top bit", err)
	}
}

// A read deadline that expires before a frame starts leaves the reader
// usable; the error matches os.ErrDeadlineExceeded.
func TestReadDeadlineBetweenFrames(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	fr := NewFrameReader(c1)
	c1.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := fr.ReadFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	c1.SetReadDeadline(time.Time{})
	go func() {
		fw := NewFrameWriter(c2)
		fw.WriteFrame([]byte("later"))
		fw.Flush()
	}()
	if p, err := fr.ReadFrame(); err != nil || string(p) != "later" {
		t.Fatalf("after the deadline: %q, %v", p, err)
	}
}

// An I/O error in the middle of a frame leaves the stream out of step:
// it sticks.
func TestReadErrorMidFrameSticks(t *testing.T) {
	r := io.MultiReader(bytes.NewReader(frameBytes(t, "00000010 0102")), errReader{errors.New("connection reset")})
	fr := NewFrameReader(r)
	_, err := fr.ReadFrame()
	var fe *FrameError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "connection reset") || fe.Size != 16 {
		t.Fatalf("got %v", err)
	}
	if _, err2 := fr.ReadFrame(); err2 != err {
		t.Fatalf("second read: %v", err2)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func BenchmarkReadFrame(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
		mac  bool
	}{
		{"16MiB", 16 << 20, false},
		{"16MiB-MAC", 16 << 20, true},
		{"100B", 100, false},
		{"100B-MAC", 100, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			var key []byte
			if c.mac {
				key = []byte("session key")
			}
			n := max(1, (64<<20)/(c.size+24)) // frames per stream
			payloads := make([][]byte, n)
			for i := range payloads {
				payloads[i] = bytes.Repeat([]byte{byte(i)}, c.size)
			}
			wire := writeFrames(b, key, payloads...)
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			b.ResetTimer()
			var fr *FrameReader
			for i := 0; i < b.N; i++ {
				if i%n == 0 {
					fr = NewFrameReader(bytes.NewReader(wire))
					fr.SetMACKey(key)
				}
				if _, err := fr.ReadFrame(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteFrame(b *testing.B) {
	for _, c := range []struct {
		name  string
		size  int
		batch int // frames per Flush
		mac   bool
	}{
		{"100B-coalesced64", 100, 64, false},
		{"100B-coalesced64-MAC", 100, 64, true},
		{"100B-flush-each", 100, 1, false},
		{"16MiB", 16 << 20, 1, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			payload := bytes.Repeat([]byte{'x'}, c.size)
			var w countingWriter
			fw := NewFrameWriter(discardCounter{&w.writes})
			if c.mac {
				fw.SetMACKey([]byte("session key"))
			}
			b.SetBytes(int64(c.size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := fw.WriteFrame(payload); err != nil {
					b.Fatal(err)
				}
				if (i+1)%c.batch == 0 {
					if err := fw.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			fw.Flush()
			b.ReportMetric(float64(w.writes)/float64(b.N), "writes/frame")
		})
	}
}

// discardCounter discards what it is given and counts the calls.
type discardCounter struct{ n *int }

func (d discardCounter) Write(p []byte) (int, error) { *d.n++; return len(p), nil }
