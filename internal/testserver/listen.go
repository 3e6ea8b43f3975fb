package testserver

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// listenRetries and listenRetryWait bound listenAgain's retries: about a
// second in all.
const (
	listenRetries   = 50
	listenRetryWait = 20 * time.Millisecond
)

// listenAgain listens on address, retrying for a while when it is in use.
// It exists for addresses a server has just given up (Restart, or a new
// server started on a closed one's port with Options.Addr): the port is
// free once the old sockets are closed, and the retries cover a kernel
// slow to release it. Any other error fails at once.
func listenAgain(network, address string) (net.Listener, error) {
	var err error
	for range listenRetries {
		var l net.Listener
		if l, err = net.Listen(network, address); err == nil {
			return l, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
		time.Sleep(listenRetryWait)
	}
	return nil, err
}
