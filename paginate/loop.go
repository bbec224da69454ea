package paginate

import "strconv"

// loopGuard remembers every position requested in a run, and every page's
// fingerprint, so that a cycle of any length is caught, not only a token
// that repeats at once.
type loopGuard[T any] struct {
	key       func(T) string
	positions map[Position]int
	prints    map[string]loopSeen
}

type loopSeen struct {
	pos Position
	n   int
}

func newLoopGuard[T any](key func(T) string) *loopGuard[T] {
	return &loopGuard[T]{key: key, positions: make(map[Position]int), prints: make(map[string]loopSeen)}
}

// position records that pos is requested as the run's n-th page.
func (g *loopGuard[T]) position(pos Position, n int) error {
	if first, ok := g.positions[pos]; ok {
		return &LoopError{Position: pos, Earlier: pos, Page: first}
	}
	g.positions[pos] = n
	return nil
}

// page records the fingerprint of the n-th page, at pos: its size and its
// first and last keys.
func (g *loopGuard[T]) page(pos Position, n int, items []T) error {
	if g.key == nil || len(items) == 0 {
		return nil
	}
	fp := strconv.Itoa(len(items)) + "\x00" + g.key(items[0]) + "\x00" + g.key(items[len(items)-1])
	if seen, ok := g.prints[fp]; ok {
		return &LoopError{Position: pos, Earlier: seen.pos, Page: seen.n, SamePage: true}
	}
	g.prints[fp] = loopSeen{pos, n}
	return nil
}
