package zeo

import (
	"sync"

	"github.com/gozeo/gozeo/pickle"
)

// ServerInfo is the server's get_info() reply (docs/protocol.md, Methods),
// typed. Keys differ by generation; absent ones are zero. Length and Size are
// kept current from the server's info() notifications.
type ServerInfo struct {
	// Name is the storage's name (often its file path).
	Name string
	// Length is the number of objects (approximate); Size the storage
	// size in bytes.
	Length int64
	Size   int64
	// SupportsUndo is true when the storage can undo and the negotiated
	// version allows it (servers report false to pre-3.10 clients).
	SupportsUndo bool
	// SupportsVersions: ZODB ≤ 3.8 "versions" (always false from 3.9).
	SupportsVersions bool
	// SupportsTransactionalUndo is sent only by ZODB 3.2 and older.
	SupportsTransactionalUndo bool
	// SupportsRecordIternext: record_iternext is available (3.8+).
	SupportsRecordIternext bool
	// Interfaces lists the storage's interfaces as "module.Name" (3.9+).
	Interfaces []string
	// ExtensionMethods lists the storage's extension methods (≤ 4.x).
	ExtensionMethods []string
	// Raw is the whole reply with keys as text and values converted as
	// by the Extension fields (text and byte strings to string or []byte,
	// tuples and lists to []any). Shared: do not modify.
	Raw map[string]any
}

// parseServerInfo reads a get_info dict.
func parseServerInfo(v any) (ServerInfo, bool) {
	d, ok := pickle.AsDict(v)
	if !ok {
		return ServerInfo{}, false
	}
	info := ServerInfo{Raw: make(map[string]any, d.Len())}
	for _, it := range d.Items() {
		k, ok := pickle.AsText(it.Key)
		if !ok {
			continue
		}
		info.Raw[k] = fromPython(it.Value)
		b, _ := pickle.AsBool(it.Value)
		switch k {
		case "name":
			info.Name = asString(it.Value)
		case "length":
			info.Length = asInt(it.Value)
		case "size":
			info.Size = asInt(it.Value)
		case "supportsUndo":
			info.SupportsUndo = b
		case "supportsVersions":
			info.SupportsVersions = b
		case "supportsTransactionalUndo":
			info.SupportsTransactionalUndo = b
		case "supports_record_iternext":
			info.SupportsRecordIternext = b
		case "interfaces":
			items, _ := pickle.AsTuple(it.Value)
			for _, x := range items {
				pair, ok := pickle.AsTuple(x)
				if ok && len(pair) == 2 {
					info.Interfaces = append(info.Interfaces, asString(pair[0])+"."+asString(pair[1]))
				}
			}
		case "extensionMethods":
			if m, ok := pickle.AsDict(it.Value); ok {
				for _, e := range m.Items() {
					info.ExtensionMethods = append(info.ExtensionMethods, asString(e.Key))
				}
			}
		}
	}
	return info, true
}

// infoState holds the latest ServerInfo; the read goroutine updates it
// from info() calls.
type infoState struct {
	mu   sync.Mutex
	info ServerInfo
}

func (s *infoState) set(i ServerInfo) {
	s.mu.Lock()
	s.info = i
	s.mu.Unlock()
}

func (s *infoState) get() ServerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// update applies an info({'length': n, 'size': bytes}) notification.
func (s *infoState) update(v any) {
	d, ok := pickle.AsDict(v)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := d.GetString("length"); ok {
		s.info.Length = asInt(l)
	}
	if z, ok := d.GetString("size"); ok {
		s.info.Size = asInt(z)
	}
}

// ServerInfo returns the storage information from get_info at connect,
// with Length and Size as last reported by the server.
func (c *Client) ServerInfo() ServerInfo {
	return c.installed().info.get()
}
