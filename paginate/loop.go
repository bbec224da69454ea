package paginate

import (
	"hash/maphash"
)

// loopGuard remembers every position requested in a run, and every page's
// fingerprint, so that a cycle of any length is caught, not only a token
// that repeats at once.
//
// It keeps 64-bit hashes and page numbers, not the positions themselves,
// so that a run of many pages with long tokens stays small: about 32 bytes
// a page in two maps.
type loopGuard[T any] struct {
	key, mark  func(T) string
	repeatEnds bool
	seed       maphash.Seed
	positions  map[uint64]int
	// prints holds the page number of each fingerprint, 0 for the last
	// page committed before the run resumed.
	prints map[uint64]int
	// last is the fingerprint of the page before the next one: the
	// previous page of this run, or the last page committed before a
	// resume; lastPos is its position.
	last    uint64
	lastPos Position
	// items counts the records of the pages before the next one, over
	// the sync's runs; pages counts the pages, in this run. The totals
	// are the last the server reported. They tell a repeat past the end
	// of the data from one before it.
	items, pages           int64
	totalItems, totalPages int64
	resumed                bool
}

func newLoopGuard[T any](opts *Options[T], resumed Checkpoint) *loopGuard[T] {
	g := &loopGuard[T]{
		key: opts.Key, mark: opts.HighWater, repeatEnds: opts.Checks.RepeatedPageEnds,
		seed: maphash.MakeSeed(), positions: make(map[uint64]int), prints: make(map[uint64]int),
	}
	if !resumed.Position.IsStart() {
		g.resumed, g.items = true, resumed.Items
		if fp := resumed.LastPage; fp != 0 {
			g.prints[fp] = 0
			g.last = fp
		}
	}
	return g
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

// page checks the n-th page, at pos, against the pages before it, and
// sets its Fingerprint. It reports end == true for a page that repeats the
// page before it: the end of the data, with no error when
// Options.Checks.RepeatedPageEnds says so, or else with a *LoopError.
// A server stuck on one page serves the same records again; a source that
// changes during the run can serve a page with the same keys as an earlier
// one, but not the same bytes, nor the same keys at the same marks, since a
// record that moves has been updated.
func (g *loopGuard[T]) page(pos Position, n int, page *Page[T]) (end bool, err error) {
	fp := fingerprint(page, g.key, g.mark)
	page.Fingerprint = fp
	if page.TotalItems > 0 {
		g.totalItems = page.TotalItems
	}
	if page.TotalPages > 0 {
		g.totalPages = page.TotalPages
	}
	if fp == 0 {
		g.last, g.lastPos = 0, Position{}
		g.pages++
		return false, nil
	}
	if seen, ok := g.prints[fp]; ok {
		if fp != g.last {
			return false, &LoopError{Position: pos, Page: seen, SamePage: true}
		}
		if g.repeatEnds {
			return true, nil
		}
		return true, g.repeatOfPrevious(pos, seen)
	}
	g.prints[fp] = n
	g.last, g.lastPos = fp, pos
	g.items += int64(len(page.Items))
	g.pages++
	return false, nil
}

// repeatOfPrevious is the error for the page at pos that repeated the one
// before it, the run's page seen, with how far the data had come.
func (g *loopGuard[T]) repeatOfPrevious(pos Position, seen int) *LoopError {
	e := &LoopError{Position: pos, Earlier: g.lastPos, Page: seen, SamePage: true, Previous: true,
		Items: g.items, TotalItems: g.totalItems}
	if !g.resumed {
		e.Pages, e.TotalPages = g.pages, g.totalPages
	}
	return e
}
