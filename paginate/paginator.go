package paginate

import (
	"context"
	"iter"
)

// A Paginator fetches one page of records of type T.
//
// Fetch returns the page that starts at pos. Fetching the same position twice
// must request the same page, so that a retry and a resume from a checkpoint
// are the same operation. The zero Position (see [Position.IsStart]) asks for
// the first page.
//
// Fetch should return an error wrapped with [Permanent] when retrying cannot
// help (a 404, a malformed body); any other error is retried under the run's
// [Retry] policy. An error that is a [RetryAfterer] asks the policy to wait
// that long before the next attempt.
type Paginator[T any] interface {
	Fetch(ctx context.Context, pos Position) (Page[T], error)
}

// A Validator can report what is wrong with its configuration before any
// request. Validator may be implemented by a [Paginator]: [Run], [Pages]
// and [All] call Validate before the checkpoint is touched, and a non-nil
// error fails the run at once. The built-in strategies implement it.
type Validator interface {
	Validate() error
}

// PaginatorFunc adapts a function to a [Paginator].
type PaginatorFunc[T any] func(ctx context.Context, pos Position) (Page[T], error)

// Fetch calls f(ctx, pos).
func (f PaginatorFunc[T]) Fetch(ctx context.Context, pos Position) (Page[T], error) {
	return f(ctx, pos)
}

// Page is one page of records and what the server said about the rest.
type Page[T any] struct {
	// Items are the page's records, in the server's order.
	Items []T
	// More reports whether another page follows. When it is false the
	// sync is complete after this page.
	More bool
	// Next is where the next page starts; it is used only when More is true.
	Next Position
	// Stop says why More is false. The zero value means StopLastPage.
	Stop StopReason
	// TotalItems is the number of records the server reported in all, or
	// zero when it did not say.
	TotalItems int64
	// TotalPages is the number of pages the server reported in all, or zero
	// when it did not say.
	TotalPages int64
	// Drift, when not zero, is a change of the source that the paginator
	// saw itself at this page, such as an overlap check that failed (see
	// strategies.Offset.Overlap). The runner reports it as it reports the
	// drift it detects (Result.Drifts, EventDrift), and a sync that saw it
	// does not advance Since when it completes.
	Drift DriftKind
	// Fingerprint, when not zero, identifies the page's records, such as a
	// hash of their raw bytes (see [Fingerprint]); it must be the same
	// whenever the same records are served, in every process. Zero has the
	// runner fingerprint the page (see "Loops and repeated pages").
	Fingerprint uint64
	// HighWater, when not empty, is a mark the paginator vouches for:
	// every record below it that the sync's filter selects has been read.
	// The runner takes it as a record's mark, so it must have the form of
	// Options.HighWater's marks (see "Incremental syncs").
	HighWater string
}

// A Planner is a [Paginator] that can compute the positions of later pages
// before fetching them, which lets [Run] fetch several pages at once (see
// [Options.Concurrency]). Page-number and offset paginators can plan once the
// first page has reported a total; cursor and token paginators cannot.
type Planner interface {
	// Plan returns the positions of the pages that follow first, the page
	// fetched at pos, in order, or nil when it cannot tell. Each position
	// must be the one Fetch would report as Next of the page before it:
	// the runner checks the plan as pages arrive and goes on one page at a
	// time from the first disagreement. The sequence is consumed lazily,
	// so a plan of a million pages costs no memory.
	Plan(pos Position, first PageInfo) iter.Seq[Position]
}

// PageInfo describes a fetched page without its items.
type PageInfo struct {
	Items      int // number of items on the page
	More       bool
	Next       Position
	TotalItems int64
	TotalPages int64
}
