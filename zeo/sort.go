package zeo

import (
	"maps"
	"slices"
)

// sortedKeys gives map-derived messages a stable order, so that the same
// extension dict always encodes to the same bytes.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
