package paginate

import (
	"hash/maphash"
)

// loopGuard remembers every position requested in a run, and every page's
// fingerprint, so that a cycle of any length is caught, not only a token
// that repeats at once.
//
// It keeps 64-bit hashes, not the positions themselves, so that a run of
// many pages with long tokens stays small: about 16 bytes a page.
type loopGuard[T any] struct {
	key       func(T) string
	mark      func(T) string
	seed      maphash.Seed
	positions map[uint64]int
	prints    map[uint64]loopSeen
}

type loopSeen struct {
	pos Position
	n   int
}

func newLoopGuard[T any](key, mark func(T) string) *loopGuard[T] {
	return &loopGuard[T]{key: key, mark: mark, seed: maphash.MakeSeed(), positions: make(map[uint64]int), prints: make(map[uint64]loopSeen)}
}

// position records that pos is requested as the run's n-th page.
func (g *loopGuard[T]) position(pos Position, n int) error {
	h := maphash.Comparable(g.seed, pos)
	if first, ok := g.positions[h]; ok {
		return &LoopError{Position: pos, Earlier: pos, Page: first}
	}
	g.positions[h] = n
	return nil
}

// page records the fingerprint of the n-th page, at pos: the keys of all
// its items, with their high-water marks when there are marks. A server
// stuck on one page serves the same keys at the same marks again; a source
// that changes during the run can serve a page with the same first and
// last keys as an earlier one, but not at the same marks, since a record
// that moves has been updated.
func (g *loopGuard[T]) page(pos Position, n int, items []T) error {
	if g.key == nil || len(items) == 0 {
		return nil
	}
	var h maphash.Hash
	h.SetSeed(g.seed)
	for i := range items {
		h.WriteString(g.key(items[i]))
		h.WriteByte(0)
		if g.mark != nil {
			h.WriteString(g.mark(items[i]))
			h.WriteByte(0)
		}
	}
	fp := h.Sum64()
	if seen, ok := g.prints[fp]; ok {
		return &LoopError{Position: pos, Earlier: seen.pos, Page: seen.n, SamePage: true}
	}
	g.prints[fp] = loopSeen{pos, n}
	return nil
}
