package record

import "github.com/gozeo/gozeo/pickle"

// Encode writes a record as ZODB's ObjectWriter does: the class metadata
// and then the state, with one pickler so that the two pickles share a
// memo. meta is usually (class, None), the form ZODB writes for classes
// without __getnewargs__.
func Encode(meta, state pickle.Value, opts pickle.EncoderOptions) ([]byte, error) {
	enc := pickle.NewEncoder(opts)
	data, err := enc.Append(nil, meta)
	if err != nil {
		return nil, err
	}
	return enc.Append(data, state)
}
