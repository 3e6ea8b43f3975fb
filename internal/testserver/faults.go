package testserver

import (
	"context"
	"errors"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// ErrFaultInjected is the cause of connections a fault rule ended.
var ErrFaultInjected = errors.New("testserver: fault injected")

// corruptPayload is the body of a corrupt frame: neither a pickle (PROTO 3
// then a GLOBAL whose name never ends) nor a msgpack message (an empty map
// followed by bytes no decoder takes).
var corruptPayload = []byte("\x80\x03cnot a ZEO message\xc1\xc1\xc1")

// garbage is what FaultGarbage writes instead of a frame: a length prefix
// of almost 2 GiB, which no real message comes near, and a little noise.
var garbage = []byte("\x7f\xff\xff\xf0garbage, not a ZEO frame")

// applyFaults fires the first fault rule matching the call c, the
// connection's frame number s.frames. It reports whether the call was
// consumed (FaultDelay lets it through after the delay).
func (s *session) applyFaults(c *call) bool {
	f := s.srv.currentFaults()
	if f == nil {
		return false
	}
	for _, r := range f.Rules {
		if !r.match(c.name, s.frames) {
			continue
		}
		s.log.Info("testserver: injecting fault", "action", r.Action.String(), "method", c.name, "frame", s.frames)
		switch r.Action {
		case FaultClose:
			s.conn.Abort(ErrFaultInjected)
			return true
		case FaultDelay:
			t := time.NewTimer(r.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-s.ctx.Done():
			case <-s.conn.Done():
			}
			return false
		case FaultDelayReply:
			c.delay = r.Delay
			return false
		case FaultCutTransfer:
			c.cut = true
			return false
		case FaultStall:
			s.fc.stall()
			<-s.conn.Done()
			return true
		case FaultCorruptFrame:
			err := s.conn.Send(s.ctx, &zrpc.Message{ID: int64(0), Method: rawFrame, Args: pickle.Bytes(corruptPayload)})
			if err != nil {
				s.log.Debug("testserver: corrupt frame not sent", "err", err)
			}
			return true
		case FaultGarbage:
			ctx, cancel := context.WithTimeout(s.ctx, sendTimeout)
			s.conn.Flush(ctx) //nolint:errcheck // best effort: the connection ends anyway
			cancel()
			s.fc.writeRaw(garbage) //nolint:errcheck
			s.conn.Abort(ErrFaultInjected)
			return true
		}
		return false
	}
	return false
}
