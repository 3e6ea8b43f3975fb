// Package conform is a conformance suite for ZEO servers: it connects
// with the gozeo client, runs each operation the negotiated protocol
// version should support, and compares what came back with what that
// version promises (docs/protocol.md). cmd/zeoconform prints its report;
// the tests run it against every profile of the Go test server, which
// thereby meets the same expectations as a real server.
//
// The read-only suite registers read-only and writes nothing. The write
// suite (Options.Write) commits on the storage it is given, which should
// be a scratch storage: new objects, conflicts, an undo, a blob where the
// server has blobs, and a pack. It keeps blob files in temporary
// directories unless Options.Client names a blob directory.
package conform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gozeo/gozeo/zeo"
)

// Options configure a run.
type Options struct {
	// Addr is the server's address, host:port.
	Addr string
	// Client configures the connection: storage name, TLS, credentials,
	// dialect, blob directory. Run sets ReadOnly (from Write), switches
	// reconnection off, gives the write suite temporary blob directories
	// when BlobDir is empty, and leaves the rest as given.
	Client zeo.Options
	// Write runs the write suite too, on the storage: it commits.
	Write bool
	// CheckTimeout bounds each check; 0 means 10 s.
	CheckTimeout time.Duration
}

// Status is the outcome of one check.
type Status string

// The statuses.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	// Skip: the negotiated version lacks the operation, or the storage
	// cannot run the check (no root object, undo switched off). Skips do
	// not fail a run.
	Skip Status = "skip"
)

// Result is the outcome of one check.
type Result struct {
	// Check names what was checked, e.g. "load: missing object".
	Check string `json:"check"`
	// Methods are the server methods the check used.
	Methods []string `json:"methods,omitempty"`
	Status  Status   `json:"status"`
	// Sent says what the client asked; Got what came back; Want what the
	// negotiated version promises. Set for failures, and Sent and Got for
	// passes where they say something.
	Sent string `json:"sent,omitempty"`
	Got  string `json:"got,omitempty"`
	Want string `json:"want,omitempty"`
	// Note gives the reason of a skip.
	Note string `json:"note,omitempty"`
}

// Report is the outcome of a run.
type Report struct {
	Server     string      `json:"server"`
	Announced  zeo.Version `json:"announced"`
	Negotiated zeo.Version `json:"negotiated"`
	Encoding   string      `json:"encoding"`
	Storage    string      `json:"storage"`
	Write      bool        `json:"write"`
	Results    []Result    `json:"results"`
}

// Passed reports whether no check failed.
func (r *Report) Passed() bool {
	for _, res := range r.Results {
		if res.Status == Fail {
			return false
		}
	}
	return true
}

// Counts returns how many checks passed, failed and were skipped.
func (r *Report) Counts() (pass, fail, skip int) {
	for _, res := range r.Results {
		switch res.Status {
		case Pass:
			pass++
		case Fail:
			fail++
		default:
			skip++
		}
	}
	return pass, fail, skip
}

// Run connects to opts.Addr and runs the suite. An error means the
// server could not be reached or refused the client; everything else,
// failures included, is in the report.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.CheckTimeout <= 0 {
		opts.CheckTimeout = 10 * time.Second
	}
	copts := opts.Client
	copts.ReadOnly = !opts.Write
	copts.Reconnect = zeo.ReconnectPolicy{Disabled: true}
	e := &env{opts: opts, copts: copts}
	if opts.Write {
		cleanup, err := e.blobDirs()
		if err != nil {
			return nil, err
		}
		defer cleanup()
	}
	dctx, cancel := context.WithTimeout(ctx, opts.CheckTimeout)
	c, err := e.dial(dctx)
	cancel()
	if err != nil {
		return nil, err
	}
	defer e.close()
	s := c.Session()
	rep := &Report{Server: opts.Addr, Announced: s.Announced, Negotiated: s.Negotiated,
		Encoding: s.Encoding, Storage: s.Storage, Write: opts.Write}
	e.rep = rep

	suite := readChecks
	if opts.Write {
		suite = append(append([]check(nil), readChecks...), writeChecks...)
	}
	for _, ch := range suite {
		rep.Results = append(rep.Results, e.run(ctx, ch))
	}
	return rep, nil
}

// check is one entry of the suite.
type check struct {
	name string
	// ops gate the check: it is skipped unless the negotiated version
	// supports each.
	ops []zeo.Operation
	run func(ctx context.Context, e *env) Result
}

// env is what the checks of one run share.
type env struct {
	opts  Options
	copts zeo.Options
	rep   *Report
	c     *zeo.Client
	// The write suite's scratch object and its revisions, set by the
	// commit check for those after it.
	oid          zeo.OID
	tid1, tid2   zeo.TID
	data1, data2 []byte
	desc2        string
	// blobsMissing is the skip note once zeo refused a blob operation;
	// readerOpts configure the second client of the blob check, with a
	// blob directory of its own.
	blobsMissing string
	readerOpts   zeo.Options
}

func (e *env) dial(ctx context.Context) (*zeo.Client, error) {
	c, err := zeo.Dial(ctx, e.opts.Addr, &e.copts)
	if err != nil {
		return nil, fmt.Errorf("conform: connecting to %s: %w", e.opts.Addr, err)
	}
	e.c = c
	return c, nil
}

// client returns the run's client, dialling again if a failed check cost
// the connection (a server drops a client that calls a method it lacks).
func (e *env) client(ctx context.Context) (*zeo.Client, error) {
	if e.c != nil && e.c.Err() == nil {
		return e.c, nil
	}
	e.close()
	return e.dial(ctx)
}

func (e *env) close() {
	if e.c != nil {
		e.c.Close()
		e.c = nil
	}
}

// methods names the server methods behind ops on the current session.
func (e *env) methods(ops ...zeo.Operation) []string {
	var ms []string
	if e.c == nil {
		return nil
	}
	s := e.c.Session()
	for _, op := range ops {
		if m, ok := s.Methods[op]; ok {
			ms = append(ms, m)
		}
	}
	return ms
}

func (e *env) run(ctx context.Context, ch check) Result {
	ctx, cancel := context.WithTimeout(ctx, e.opts.CheckTimeout)
	defer cancel()
	c, err := e.client(ctx)
	if err != nil {
		return Result{Check: ch.name, Status: Fail, Got: err.Error(), Want: "a connection"}
	}
	for _, op := range ch.ops {
		if !c.Supports(op) {
			return Result{Check: ch.name, Status: Skip, Note: fmt.Sprintf("%s has no %s", e.rep.Negotiated, op)}
		}
	}
	r := ch.run(ctx, e)
	r.Check = ch.name
	if r.Methods == nil {
		r.Methods = e.methods(ch.ops...)
	}
	if r.Status == Fail {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Got == "" {
			r.Got = "no answer within " + e.opts.CheckTimeout.String()
		}
		// A failure may have cost the connection (servers drop clients
		// over errors), or left it out of step: the next check starts on
		// a new one.
		e.close()
	}
	return r
}

// pass, fail and skip build results.
func pass(sent, got string) Result { return Result{Status: Pass, Sent: sent, Got: got} }

func fail(sent, got, want string) Result {
	return Result{Status: Fail, Sent: sent, Got: got, Want: want}
}

func skip(note string) Result { return Result{Status: Skip, Note: note} }

// errText shows an error or "no error".
func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
