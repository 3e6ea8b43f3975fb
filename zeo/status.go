package zeo

// Status is where a Client is in its connection lifecycle.
type Status uint8

// The statuses, in the order a Client goes through them.
const (
	// StatusConnecting: Dial is making the first connection.
	StatusConnecting Status = iota
	// StatusConnected: a connection is up and caught up; calls go out at
	// once.
	StatusConnected
	// StatusReconnecting: the connection was lost and the client is
	// trying the servers again; calls wait (Options.WaitTimeout).
	StatusReconnecting
	// StatusClosed: Close was called, or the connection was lost with
	// reconnection disabled. Final.
	StatusClosed
)

// String names the status.
func (s Status) String() string {
	switch s {
	case StatusConnecting:
		return "connecting"
	case StatusConnected:
		return "connected"
	case StatusReconnecting:
		return "reconnecting"
	case StatusClosed:
		return "closed"
	}
	return "Status(?)"
}

// StatusEvent reports a change of status to Options.OnStatus.
type StatusEvent struct {
	Status Status
	// Server is the address the event is about: the server connected to,
	// the one lost, or the one an attempt failed on.
	Server string
	// Session is what was negotiated, for StatusConnected: the server that
	// answers after an outage may speak another protocol generation than
	// the one before, and Session says which and why.
	Session *Session
	// Err says why: for StatusReconnecting, why the connection was lost
	// (Attempt 0) or why attempt number Attempt failed; for StatusClosed,
	// why the client ended (ErrClosed after Close).
	Err error
	// Attempt counts the failed attempts of this outage.
	Attempt int
}

// Status returns the client's current status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// setStatus records a status change and reports it to OnStatus. Callers
// are the goroutine that owns the lifecycle at the time (Dial's, then the
// supervisor's, then Close's), so reports come one at a time.
func (c *Client) setStatus(ev StatusEvent) {
	c.mu.Lock()
	if c.status == StatusClosed {
		c.mu.Unlock()
		return
	}
	c.status = ev.Status
	c.mu.Unlock()
	c.log.Debug("zeo: status", "status", ev.Status.String(), "server", ev.Server, "attempt", ev.Attempt, "err", ev.Err)
	if c.opts.OnStatus != nil {
		c.statusMu.Lock()
		defer c.statusMu.Unlock()
		c.opts.OnStatus(ev)
	}
}
