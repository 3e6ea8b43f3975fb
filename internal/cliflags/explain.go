package cliflags

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gozeo/gozeo/zeo"
)

// Explain prints why program could not talk to the server at addr, and
// the flag to change where the error says which: the versions each side
// speaks, the credentials, or TLS.
func Explain(w io.Writer, program, addr string, err error) {
	fmt.Fprintf(w, "%s: cannot talk to %s\n  %v\n", program, addr, err)
	var pm *zeo.ProtocolMismatchError
	var ae *zeo.AuthError
	switch {
	case errors.As(err, &pm):
		fmt.Fprintf(w, "  the server announced %s; allowed versions: %v (see -version)\n", pm.Announced, pm.Allowed)
	case errors.As(err, &ae):
		hint := "pass -user and -password"
		if ae.User != "" {
			hint = "check -user, -password and -realm"
		}
		fmt.Fprintf(w, "  authentication required: yes (negotiated %s); %s\n", ae.Version, hint)
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintln(w, "  hint: nothing answered in time; a ZEO 5 server with TLS waits silently for a TLS client (-tls)")
	}
}
