package record_test

import (
	"encoding/hex"
	"fmt"
	"log"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// A record as ZODB 5 on Python 3 writes it: a PersistentMapping holding
// {'doc': <a Document>}, taken apart without the application's classes.
func ExampleDecode() {
	data, _ := hex.DecodeString("80036370657273697374656e742e6d617070696e670a50657273697374656e744d617070696e670a71002e" +
		"80037d710158040000006461746171027d71035803000000646f637104430800000000000000077105" +
		"636d796170700a446f63756d656e740a71068671075173732e")
	rec, err := record.Decode(data)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Class)
	for _, ref := range rec.Refs {
		fmt.Println(ref)
	}
	view, _ := record.JSON(rec.State)
	fmt.Println(string(view))
	// Output:
	// persistent.mapping.PersistentMapping
	// -> oid 0x07 (myapp.Document)
	// {"dict":[[{"u":"data"},{"dict":[[{"u":"doc"},{"ref":"0000000000000007","class":"myapp.Document"}]]}]]}
}

// EncodeObject writes a record as ZODB writes it, for the Python the
// database's clients run.
func ExampleEncodeObject() {
	state := pickle.DictOf(
		"title", pickle.Unicode("Hello"),
		"parent", record.RefTo(zodb.OIDFromUint64(1), "myapp.Folder"),
	)
	for _, f := range []record.Format{record.Py3, record.Py2} {
		data, err := record.EncodeObject("myapp.Document", state, f)
		if err != nil {
			log.Fatal(err)
		}
		rec, _ := record.Decode(data)
		fmt.Printf("%v: %d bytes, class %s, %v\n", f, len(data), rec.Class, rec.Refs[0])
	}
	// Output:
	// Py3: 98 bytes, class myapp.Document, -> oid 0x01 (myapp.Folder)
	// Py2: 87 bytes, class myapp.Document, -> oid 0x01 (myapp.Folder)
}

// A Registry turns records into Go values: the common classes it knows,
// an application's classes once registered, anything else symbolically.
func ExampleRegistry() {
	type document struct{ Title string }
	reg := record.NewRegistry()
	reg.Register("myapp.Document", func(oid zodb.OID, rec *record.Record) (any, error) {
		state, _ := pickle.AsDict(rec.State)
		title, _ := state.Get("title")
		text, _ := pickle.AsText(title)
		return &document{Title: text}, nil
	})
	for _, obj := range []struct {
		class string
		state pickle.Value
	}{
		{"myapp.Document", pickle.DictOf("title", pickle.Unicode("Hello"))},
		{record.ClassPersistentMapping, pickle.DictOf("data", pickle.DictOf("a", int64(1)))},
		{record.ClassLength, int64(42)},
		{"myapp.Unknown", pickle.DictOf("x", int64(1))},
	} {
		data, _ := record.EncodeObject(obj.class, obj.state, record.Py3)
		rec, _ := record.Decode(data)
		v, err := reg.Decode(zodb.OIDFromUint64(1), rec)
		if err != nil {
			log.Fatal(err)
		}
		switch v := v.(type) {
		case *document:
			fmt.Println("document:", v.Title)
		case *record.Mapping:
			fmt.Println("mapping of", v.Data.Len(), "items")
		case *record.Length:
			fmt.Println("length", v.Value)
		case *record.Object:
			fmt.Println("symbolic", v.Class, pickle.Repr(v.State))
		}
	}
	// Output:
	// document: Hello
	// mapping of 1 items
	// length 42
	// symbolic myapp.Unknown {"x": 1}
}
