package zodb_test

import (
	"fmt"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

func ExampleTIDFromTime() {
	tid := zodb.TIDFromTime(time.Date(2024, 1, 1, 12, 34, 56, 789_000_000, time.UTC))
	fmt.Println(tid)
	fmt.Println(tid.TimeString())
	// Output:
	// 03f590f2f24cbb52
	// 2024-01-01 12:34:56.789000
}

func ExampleTID_Time() {
	tid, _ := zodb.ParseTID("0x040d40e347ce3111")
	fmt.Println(tid.Time().Format(time.RFC3339Nano))
	// Output: 2026-11-25T13:23:16.829399108Z
}

func ExampleNextTID() {
	frozen := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	first := zodb.NextTID(zodb.ZeroTID, frozen)
	second := zodb.NextTID(first, frozen) // the clock did not move: one unit later
	fmt.Println(first, second)
	// Output: 03f58e0000000000 03f58e0000000001
}

func ExampleParseOID() {
	oid, _ := zodb.ParseOID("0x01f8") // as ZODB prints oids in messages
	fmt.Println(oid, oid.Repr(), oid.Uint64())
	// Output: 00000000000001f8 0x01f8 504
}

func ExampleOIDFromBytes() {
	oid, err := zodb.OIDFromBytes([]byte{0, 0, 0, 0, 0, 0, 0, 1})
	fmt.Println(oid, err)
	_, err = zodb.OIDFromBytes([]byte{1, 2, 3})
	fmt.Println(err)
	// Output:
	// 0000000000000001 <nil>
	// zodb: identifier must be exactly 8 bytes: oid of 3 bytes
}
