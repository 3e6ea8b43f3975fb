package zrpc

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// Each capability against the versions docs/protocol.md gives it (Versions
// and capabilities, Methods).
func TestCapabilitiesMatrix(t *testing.T) {
	rows := []struct {
		name string
		get  func(Capabilities) bool
		has  string // versions with the capability
	}{
		{"LastTransaction", func(c Capabilities) bool { return c.LastTransaction }, "Z201 Z303 Z308 Z309 Z310 Z3101 Z4 Z5 M5"},
		{"InvalidateTransaction", func(c Capabilities) bool { return c.InvalidateTransaction }, "Z201 Z303 Z308 Z309 Z310 Z3101 Z4 Z5 M5"},
		{"InvalidationVersions", func(c Capabilities) bool { return c.InvalidationVersions }, "Z200 Z201 Z303 Z308"},
		{"TPCFinishReturnsTID", func(c Capabilities) bool { return c.TPCFinishReturnsTID }, "Z201 Z303 Z308 Z309 Z310 Z3101 Z4 Z5 M5"},
		{"LoadEx", func(c Capabilities) bool { return c.LoadEx }, "Z303 Z308 Z309 Z310 Z3101 Z4"},
		{"LoadBefore", func(c Capabilities) bool { return c.LoadBefore }, "Z303 Z308 Z309 Z310 Z3101 Z4 Z5 M5"},
		{"VersionsAPI", func(c Capabilities) bool { return c.VersionsAPI }, "Z200 Z201 Z303 Z308"},
		{"Blobs", func(c Capabilities) bool { return c.Blobs }, "Z308 Z309 Z310 Z3101 Z4 Z5 M5"},
		{"RestoreA", func(c Capabilities) bool { return c.RestoreA }, "Z309 Z310 Z3101 Z4 Z5 M5"},
		{"DeleteObject", func(c Capabilities) bool { return c.DeleteObject }, "Z309 Z310 Z3101 Z4 Z5 M5"},
		{"Iterators", func(c Capabilities) bool { return c.Iterators }, "Z309 Z310 Z3101 Z4 Z5 M5"},
		{"CheckCurrentSerial", func(c Capabilities) bool { return c.CheckCurrentSerial }, "Z3101 Z4 Z5 M5"},
		{"UndoSync", func(c Capabilities) bool { return c.UndoSync }, "Z200 Z201 Z303 Z308 Z309"},
		{"TransactionalUndo", func(c Capabilities) bool { return c.TransactionalUndo }, "Z200 Z201"},
		{"UndoAsync", func(c Capabilities) bool { return c.UndoAsync }, "Z310 Z3101 Z4 Z5 M5"},
		{"Serialnos", func(c Capabilities) bool { return c.Serialnos }, "Z200 Z201 Z303 Z308 Z309 Z310 Z3101 Z4"},
		{"StoreResultsInVote", func(c Capabilities) bool { return c.StoreResultsInVote }, "Z5 M5"},
		{"ErrorFlag2", func(c Capabilities) bool { return c.ErrorFlag2 }, "Z5 M5"},
		{"RegisterReturnsTID", func(c Capabilities) bool { return c.RegisterReturnsTID }, "Z5 M5"},
		{"RegisterFirst", func(c Capabilities) bool { return c.RegisterFirst }, "Z5 M5"},
		{"Auth", func(c Capabilities) bool { return c.Auth }, "Z201 Z303 Z308 Z309 Z310 Z3101 Z4"},
		{"GetAuthProtocol", func(c Capabilities) bool { return c.GetAuthProtocol }, "Z201 Z303 Z308 Z309 Z310 Z3101 Z4"},
		{"ExtensionMethods", func(c Capabilities) bool { return c.ExtensionMethods }, "Z200 Z201 Z303 Z308 Z309 Z310 Z3101 Z4"},
		{"CacheVerification", func(c Capabilities) bool { return c.CacheVerification }, "Z200 Z201 Z303 Z308 Z309 Z310 Z3101 Z4"},
		{"ServerStatus", func(c Capabilities) bool { return c.ServerStatus }, "Z310 Z3101 Z4 Z5 M5"},
		{"Heartbeats", func(c Capabilities) bool { return c.Heartbeats }, "Z3101 Z4 Z5 M5"},
		{"Ruok", func(c Capabilities) bool { return c.Ruok }, "Z4 Z5 M5"},
		{"OneWayErrorsDisconnect", func(c Capabilities) bool { return c.OneWayErrorsDisconnect }, "Z5 M5"},
		{"Ping", func(c Capabilities) bool { return c.Ping }, "Z5 M5"},
		{"TLS", func(c Capabilities) bool { return c.TLS }, "Z5 M5"},
		{"Msgpack", func(c Capabilities) bool { return c.Msgpack }, "M5"},
	}
	for _, row := range rows {
		has := strings.Fields(row.has)
		for _, v := range KnownVersions() {
			want := slices.Contains(has, string(v))
			if got := row.get(v.Capabilities()); got != want {
				t.Errorf("%s.Capabilities().%s = %v, want %v", v, row.name, got, want)
			}
		}
	}
	if (Version("Z6").Capabilities() != Capabilities{}) {
		t.Error("an unknown version has capabilities")
	}
}

// The ZEO 5 method set is exactly registered_methods of StorageServer.py
// (docs/protocol.md, Methods), minus new_oid, which no server implements.
func TestHasMethodZEO5(t *testing.T) {
	want := strings.Fields(`register get_info lastTransaction getInvalidations new_oids pack loadBefore storea
		checkCurrentSerialInTransaction restorea storeBlobStart storeBlobChunk storeBlobEnd storeBlobShared
		deleteObject tpc_begin vote tpc_finish tpc_abort history record_iternext sendBlob getTid loadSerial
		undoa undoLog undoInfo iterator_start iterator_next iterator_record_start
		iterator_record_next iterator_gc server_status set_client_label ping`)
	slices.Sort(want)
	for _, v := range []Version{Z5, M5} {
		if got := v.Methods(); !slices.Equal(got, want) {
			t.Errorf("%s methods:\n got %v\nwant %v", v, got, want)
		}
	}
	if Z5.HasMethod("new_oid") || Z5.HasMethod("loadEx") || Z5.HasMethod("getAuthProtocol") || !Z5.HasMethod("ping") {
		t.Error("ZEO 5 method gates")
	}
}

// The method-set changes between versions listed in docs/protocol.md, Methods.
func TestHasMethodChanges(t *testing.T) {
	diff := func(old, new Version) (added, removed []string) {
		o, n := old.Methods(), new.Methods()
		for _, m := range n {
			if !slices.Contains(o, m) {
				added = append(added, m)
			}
		}
		for _, m := range o {
			if !slices.Contains(n, m) {
				removed = append(removed, m)
			}
		}
		return added, removed
	}
	cases := []struct {
		old, new       Version
		added, removed string
	}{
		{Z200, Z201, "auth_get_challenge auth_response getAuthProtocol getInvalidations getSerial lastTransaction loadBefore loadEx verify", "beginZeoVerify"},
		{Z201, Z303, "", "transactionalUndo"},
		{Z303, Z308, "getTid record_iternext sendBlob storeBlobChunk storeBlobEnd storeBlobShared storeBlobStart", "getSerial"},
		{Z308, Z309, "deleteObject iterator_gc iterator_next iterator_record_next iterator_record_start iterator_start restorea",
			"abortVersion commitVersion modifiedInVersion versionEmpty versions zeoLoad"},
		{Z309, Z310, "server_status set_client_label undoa", "undo"},
		{Z310, Z3101, "checkCurrentSerialInTransaction", ""},
		{Z3101, Z4, "", ""},
		{Z4, Z5, "ping", "auth_get_challenge auth_response endZeoVerify getAuthProtocol getExtensionMethods load loadEx verify zeoVerify"},
	}
	for _, c := range cases {
		added, removed := diff(c.old, c.new)
		if strings.Join(added, " ") != c.added || strings.Join(removed, " ") != c.removed {
			t.Errorf("%s -> %s: added %v, removed %v; want added [%s], removed [%s]", c.old, c.new, added, removed, c.added, c.removed)
		}
	}
	if Version("Z6").HasMethod("register") || Z4.HasMethod("no_such_method") {
		t.Error("unknown version or method reported as available")
	}
}

// The rows that carry per-generation choices of the client and the test
// server: each names one behaviour, starting at the release that brought
// it (docs/protocol.md, Versions and capabilities).
func TestBehaviourRows(t *testing.T) {
	for _, c := range []struct {
		v                                                  Version
		loadBefore, ambiguous, oneWayBegin, asserts, drops bool
		heartbeat                                          time.Duration
	}{
		{Z200, false, false, false, false, false, 30 * time.Second},
		{Z201, false, true, false, false, false, 30 * time.Second},
		{Z308, false, false, false, false, false, 30 * time.Second},
		{Z309, false, false, false, false, false, 30 * time.Second},
		{Z310, false, false, true, true, false, 30 * time.Second},
		{Z4, false, false, true, true, false, 30 * time.Second},
		{Z5, true, false, true, false, true, 60 * time.Second},
		{M5, true, false, true, false, true, 60 * time.Second},
	} {
		caps := c.v.Capabilities()
		got := []bool{caps.LoadCurrentBefore, caps.AmbiguousMVCC, caps.TPCBeginOneWay, caps.AssertsHeartbeat, caps.IgnoresMinusOne}
		want := []bool{c.loadBefore, c.ambiguous, c.oneWayBegin, c.asserts, c.drops}
		if !slices.Equal(got, want) || caps.HeartbeatIdle != c.heartbeat {
			t.Errorf("%s: rows %v heartbeat %v, want %v %v", c.v, got, caps.HeartbeatIdle, want, c.heartbeat)
		}
		if caps.TPCBeginOneWay != caps.TPCAbortSync || caps.VoteOnce != caps.VoteFailureAborts || caps.TPCBeginOneWay != caps.VoteOnce {
			t.Errorf("%s: the ZODB 3.10 transaction changes came together, got %+v", c.v, caps)
		}
	}
}
