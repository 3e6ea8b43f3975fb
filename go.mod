module github.com/gozeo/gozeo

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/nlpodyssey/gopickle v0.2.0
	github.com/vmihailenco/msgpack/v5 v5.4.1
	golang.org/x/sync v0.25.0
)

require github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
