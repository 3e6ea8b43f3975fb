package pickle

import (
	"errors"
	"io"
	"testing"
)

// decodeSentinels are the errors a failing Decode may wrap.
var decodeSentinels = []error{
	ErrTruncated, ErrUnknownOpcode, ErrTooDeep, ErrStackUnderflow, ErrNoMark,
	ErrMemo, ErrBadValue, ErrGlobalRefused, ErrOutOfBandBuffer, ErrPersistentLoad, ErrTooComplex,
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic or
// hang, every failure must be a *DecodeError wrapping a sentinel at an
// offset inside the input, and decoding with AliasBytes (or Raw) must
// succeed or fail exactly as the default does.
func FuzzDecode(f *testing.F) {
	for _, cases := range [][]decodeCase{numberCases, stringCases, containerCases, stackCases, objectCases, constructorCases, python3Cases, zeoMessageCases} {
		for _, tc := range cases {
			f.Add([]byte(tc.in))
		}
	}
	for _, tc := range conflictErrorPickles {
		f.Add([]byte(tc.in))
	}
	for _, tc := range hostileCases {
		f.Add([]byte(tc.in))
	}
	for _, b := range capturePickles(f) {
		f.Add(b)
	}
	f.Add(record(f, "pm50-p3"))
	f.Add(record(f, "pm50-p1"))

	f.Fuzz(func(t *testing.T, data []byte) {
		plain, perr := decodeAllForFuzz(t, data, nil)
		alias, aerr := decodeAllForFuzz(t, data, &DecoderOptions{AliasBytes: true})
		if (perr == nil) != (aerr == nil) || (perr != nil && perr.Error() != aerr.Error()) {
			t.Fatalf("AliasBytes changes the outcome: %v vs %v", perr, aerr)
		}
		if len(plain) != len(alias) {
			t.Fatalf("AliasBytes decodes %d pickles, default %d", len(alias), len(plain))
		}
		for i := range plain {
			if p, a := Repr(plain[i]), Repr(alias[i]); p != a {
				t.Fatalf("pickle %d: AliasBytes decodes %s, default %s", i, a, p)
			}
			// The views users call on decoded values must not panic.
			AsException(plain[i])
		}
		raw, rerr := decodeAllForFuzz(t, data, &DecoderOptions{Raw: true})
		if rerr == nil && perr == nil && len(raw) != len(plain) {
			t.Fatalf("Raw decodes %d pickles, default %d", len(raw), len(plain))
		}
	})
}

// decodeAllForFuzz decodes the pickles of data until the end or an error,
// checking the error's shape.
func decodeAllForFuzz(t *testing.T, data []byte, opts *DecoderOptions) ([]Value, error) {
	d := NewDecoder(data, opts)
	var out []Value
	for {
		v, err := d.Decode()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			if de.Offset < 0 || de.Offset > len(data) {
				t.Fatalf("error offset %d outside the input of %d bytes", de.Offset, len(data))
			}
			known := false
			for _, s := range decodeSentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return out, err
		}
		if v == nil {
			t.Fatalf("Decode returned a nil Value without error")
		}
		if d.Offset() > len(data) {
			t.Fatalf("Offset %d beyond the input", d.Offset())
		}
		out = append(out, v)
	}
}
