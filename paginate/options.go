package paginate

import "log/slog"

// Options configure a run. The zero value is a usable configuration: stream
// "default", no checkpoint store (unless the sink is one), the default
// [Retry] policy, one page fetched ahead, no limits, no logging.
type Options[T any] struct {
	// Stream is the key the checkpoint is stored under. Use one per
	// endpoint and filter. Empty means "default".
	Stream string

	// Store keeps the checkpoint. When nil and the sink implements Store,
	// the sink is the store, and if it also implements Committer each
	// page's items and checkpoint are committed together. When both are
	// absent the run keeps no checkpoint and always starts from the start.
	Store Store

	// HighWater returns an item's incremental mark, such as its updatedAt
	// in RFC 3339. Marks are compared as strings, so they must sort as
	// they order: use a fixed-width form (UTC, same precision). The
	// largest mark committed is saved in the checkpoint, and a completed
	// sync hands it to the next one as Position.Since.
	HighWater func(T) string

	// Key returns an item's identity, such as its primary key. When set,
	// the runner fingerprints each page by its keys (and their HighWater
	// marks, when set, so that a record updated and served again is not
	// taken for a repeated page) and stops with ErrLoop when two positions
	// return the same page.
	Key func(T) string

	// Order, when set, compares two items in the order the API promises
	// (for example by updatedAt, then id). The runner then reports as
	// drift a page whose first item sorts before the previous page's last.
	Order func(a, b T) int

	// TrackKeys, with Key, makes the runner remember a 64-bit hash of every
	// key committed in the run (about 40 bytes a record) and report a key
	// seen twice as drift. Off by default, so that memory stays constant.
	TrackKeys bool

	// Retry is the policy for failed fetches.
	Retry Retry

	// Prefetch is how many pages may be fetched ahead of the page the
	// sink is writing. Zero means 1: page N+1 is fetched while page N is
	// written.
	Prefetch int

	// Concurrency is how many pages may be fetched at once when the
	// paginator is a Planner and its first page lets it plan. Pages still
	// reach the sink in order, and the checkpoint only advances over the
	// committed prefix. Zero means 4; 1 fetches one page at a time.
	Concurrency int

	// MaxPages stops the run after this many pages, with StopMaxPages;
	// the checkpoint then points at the next page, so a later run goes on
	// from there. Zero means no limit.
	MaxPages int

	// MaxItems stops the run after the page that brings the number of
	// items to at least MaxItems, with StopMaxItems. Whole pages are
	// always written, so that the checkpoint stays on a page boundary.
	// Zero means no limit.
	MaxItems int64

	// Logger receives one structured line per committed page and one per
	// retry. Nil means silence.
	Logger *slog.Logger

	// Observe, when set, is called for every Event: page fetched, page
	// committed, retry scheduled, run done. Calls never overlap.
	Observe func(Event)
}

func (o *Options[T]) stream() string {
	if o.Stream == "" {
		return "default"
	}
	return o.Stream
}

func (o *Options[T]) prefetch() int {
	if o.Prefetch <= 0 {
		return 1
	}
	return o.Prefetch
}

func (o *Options[T]) concurrency() int {
	if o.Concurrency <= 0 {
		return 4
	}
	return o.Concurrency
}
