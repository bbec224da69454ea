package paginate

import (
	"hash/maphash"
	"strconv"
)

// loopGuard remembers every position requested in a run, and every page's
// fingerprint, so that a cycle of any length is caught, not only a token
// that repeats at once.
//
// It keeps 64-bit hashes, not the positions themselves, so that a run of
// many pages with long tokens stays small: about 16 bytes a page.
type loopGuard[T any] struct {
	key       func(T) string
	seed      maphash.Seed
	positions map[uint64]int
	prints    map[uint64]loopSeen
}

type loopSeen struct {
	pos Position
	n   int
}

func newLoopGuard[T any](key func(T) string) *loopGuard[T] {
	return &loopGuard[T]{key: key, seed: maphash.MakeSeed(), positions: make(map[uint64]int), prints: make(map[uint64]loopSeen)}
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

// page records the fingerprint of the n-th page, at pos: its size and its
// first and last keys.
func (g *loopGuard[T]) page(pos Position, n int, items []T) error {
	if g.key == nil || len(items) == 0 {
		return nil
	}
	fp := maphash.String(g.seed, strconv.Itoa(len(items))+"\x00"+g.key(items[0])+"\x00"+g.key(items[len(items)-1]))
	if seen, ok := g.prints[fp]; ok {
		return &LoopError{Position: pos, Earlier: seen.pos, Page: seen.n, SamePage: true}
	}
	g.prints[fp] = loopSeen{pos, n}
	return nil
}
