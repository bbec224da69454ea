package paginate

import "fmt"

// DriftKind says how data that changed during a sync showed itself.
type DriftKind int

// The kinds of drift the runner detects.
const (
	// DriftOutOfOrder: a page's first item sorts before the previous page's
	// last item under Options.Checks.Order (records were inserted or moved behind
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
	// DriftResume: a sync with Options.Checks.TrackKeys resumed without the keys
	// its earlier runs committed (the store is not a [KeyStore], or it
	// holds fewer keys than the checkpoint's Items), so that a record
	// shifted past a page boundary before or after the stop could not be
	// seen. The sync counts as drifted from the start of the run.
	DriftResume
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
	case DriftResume:
		return "resumed without keys"
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
	// within checks the order within each page too, for an order the
	// runner took from the marks; unordered says a page broke it, which
	// no change of the source explains: the API orders otherwise.
	within, unordered bool
}

// newDriftGuard returns the guard of a run with opts; keys are the key
// hashes that the runs before it committed in the same sync.
func newDriftGuard[T any](opts *Options[T], keys []uint64, within bool) *driftGuard[T] {
	g := &driftGuard[T]{key: opts.Key, order: opts.Checks.Order, track: opts.Checks.TrackKeys && opts.Key != nil, within: within}
	if g.track {
		g.seen = newKeySet()
		for _, h := range keys {
			g.seen.addHash(h)
		}
	}
	return g
}

// check returns the drifts that the page at pos shows. When it tracks
// keys, it returns their hashes too, in the items' order.
func (g *driftGuard[T]) check(pos Position, items []T) ([]Drift, []uint64) {
	if len(items) == 0 {
		return nil, nil
	}
	var out []Drift
	if g.order != nil && g.any && g.order(items[0], g.last) < 0 {
		out = append(out, Drift{Kind: DriftOutOfOrder, Position: pos, Key: g.keyOf(items[0])})
	}
	if g.within {
		for i := 1; i < len(items); i++ {
			if g.order(items[i], items[i-1]) < 0 {
				g.unordered = true
				out = append(out, Drift{Kind: DriftOutOfOrder, Position: pos, Key: g.keyOf(items[i])})
				break
			}
		}
	}
	var hashes []uint64
	if g.track {
		hashes = make([]uint64, len(items))
		for i := range items {
			k := g.key(items[i])
			hashes[i] = keyHash(k)
			if !g.seen.addHash(hashes[i]) {
				out = append(out, Drift{Kind: DriftDuplicate, Position: pos, Key: k})
			}
		}
	}
	g.last = items[len(items)-1]
	g.any = true
	return out, hashes
}

func (g *driftGuard[T]) keyOf(v T) string {
	if g.key == nil {
		return ""
	}
	return g.key(v)
}
