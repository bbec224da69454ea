package paginate

import "fmt"

// DriftKind says how data that changed during a sync showed itself.
type DriftKind int

// The kinds of drift the runner detects.
const (
	// DriftOutOfOrder: a page's first item sorts before the previous page's
	// last item under Options.Order (records were inserted or moved behind
	// the pages already read).
	DriftOutOfOrder DriftKind = iota + 1
	// DriftDuplicate: a key committed earlier in the run came again
	// (records moved forward past the page boundary, so another record may
	// have moved back over it and been skipped).
	DriftDuplicate
	// DriftOverlap: the paginator re-read the records before the page's
	// position and found none of those the previous page ended with
	// (they moved, or more records shifted than it re-reads), so records
	// may have been skipped. Paginators report it in Page.Drift.
	DriftOverlap
)

// String returns the kind in words.
func (k DriftKind) String() string {
	switch k {
	case DriftOutOfOrder:
		return "out of order"
	case DriftDuplicate:
		return "duplicate"
	case DriftOverlap:
		return "overlap mismatch"
	}
	return fmt.Sprintf("DriftKind(%d)", int(k))
}

// Drift is one sign that the source changed while the run paged through
// it: with page-number or offset paging, such a change can shift records
// across a page boundary, so that one is read twice and another is skipped.
type Drift struct {
	// Kind says how the drift showed.
	Kind DriftKind
	// Position is the position of the page where it showed.
	Position Position
	// Key is the key of the duplicated item, or of the first item of the
	// out-of-order page.
	Key string
}

// maxDrifts bounds Result.Drifts; Result.DriftCount counts them all.
const maxDrifts = 100

// driftGuard watches committed pages for drift. It runs on the committing
// side, so it sees pages in order whatever the fetch concurrency.
type driftGuard[T any] struct {
	key   func(T) string
	order func(a, b T) int
	track bool
	seen  *keySet
	last  T
	any   bool
}

func newDriftGuard[T any](opts *Options[T]) *driftGuard[T] {
	g := &driftGuard[T]{key: opts.Key, order: opts.Order, track: opts.TrackKeys && opts.Key != nil}
	if g.track {
		g.seen = newKeySet()
	}
	return g
}

// check returns the drifts that the page at pos shows.
func (g *driftGuard[T]) check(pos Position, items []T) []Drift {
	if len(items) == 0 {
		return nil
	}
	var out []Drift
	if g.order != nil && g.any && g.order(items[0], g.last) < 0 {
		out = append(out, Drift{Kind: DriftOutOfOrder, Position: pos, Key: g.keyOf(items[0])})
	}
	if g.track {
		for i := range items {
			if k := g.key(items[i]); !g.seen.add(k) {
				out = append(out, Drift{Kind: DriftDuplicate, Position: pos, Key: k})
			}
		}
	}
	g.last = items[len(items)-1]
	g.any = true
	return out
}

func (g *driftGuard[T]) keyOf(v T) string {
	if g.key == nil {
		return ""
	}
	return g.key(v)
}
