package zeotest

import (
	"fmt"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
)

// Fault makes the server misbehave when a connection receives a matching
// call.
type Fault struct {
	// Method restricts the fault to calls of this server method (e.g.
	// "tpc_finish", "loadBefore"); "" matches every call.
	Method string
	// AfterFrames restricts the fault to the frames a connection receives
	// from the AfterFrames-th on (the first after the handshake is 1); 0
	// matches from the first.
	AfterFrames int
	// Action is what the server does instead of (for Delay: before)
	// handling the call.
	Action FaultAction
	// Delay is how long Delay holds the connection, or DelayReply the
	// reply.
	Delay time.Duration
}

// FaultAction is what a Fault does.
type FaultAction uint8

// The fault actions.
const (
	// Close closes the connection without answering the call.
	Close FaultAction = iota + 1
	// Delay waits Fault.Delay before handling the call; the connection
	// reads nothing else meanwhile, like a busy real server.
	Delay
	// DelayReply handles the call at once and sends its reply Fault.Delay
	// later, serving other calls meanwhile: replies arrive out of order.
	DelayReply
	// Stall stops the connection without closing it: nothing more is read
	// or written until the server closes or restarts.
	Stall
	// CorruptFrame answers with a well-framed payload no pickle or msgpack
	// decoder reads.
	CorruptFrame
	// Garbage writes bytes that are not a frame and closes the connection.
	Garbage
)

var faultActions = [...]testserver.FaultAction{
	Close:        testserver.FaultClose,
	Delay:        testserver.FaultDelay,
	DelayReply:   testserver.FaultDelayReply,
	Stall:        testserver.FaultStall,
	CorruptFrame: testserver.FaultCorruptFrame,
	Garbage:      testserver.FaultGarbage,
}

// String names the action.
func (a FaultAction) String() string {
	if a == 0 || int(a) >= len(faultActions) {
		return fmt.Sprintf("FaultAction(%d)", uint8(a))
	}
	return faultActions[a].String()
}

// SetFaults replaces the faults the server injects from now on, on every
// connection; none (no arguments) makes it behave again. A fault with an
// unknown action is ignored.
func (s *Server) SetFaults(faults ...Fault) {
	s.srv.SetFaults(testserver.Faults{Rules: rules(faults)})
}

func rules(faults []Fault) []testserver.FaultRule {
	var rs []testserver.FaultRule
	for _, f := range faults {
		if f.Action == 0 || int(f.Action) >= len(faultActions) {
			continue
		}
		rs = append(rs, testserver.FaultRule{Method: f.Method, AfterFrames: f.AfterFrames, Action: faultActions[f.Action], Delay: f.Delay})
	}
	return rs
}

// Restart imitates a server restart: every connection is dropped and the
// server listens again on the same address, with the same data. Clients
// see their connection lost; those with reconnection on come back.
func (s *Server) Restart() error { return s.srv.Restart() }
