package zrpc

import "github.com/gozeo/gozeo/pickle"

// NameState returns how ZEO 5 and 6 servers send an exception: the pair
// (qualified class name, state), state being the exception's attributes
// when it has any, else its args. It is the value of their error replies
// and what their msgpack encoder makes of any exception (docs/protocol.md,
// Errors). [ErrorFromReply] reads it back.
func NameState(exc *pickle.Exception) pickle.Tuple {
	var state pickle.Value
	switch {
	case exc.State.Len() > 0:
		state = exc.State
	case exc.Args != nil:
		state = exc.Args
	default:
		state = pickle.Tuple{}
	}
	return pickle.Tuple{exc.Class.String(), state}
}
