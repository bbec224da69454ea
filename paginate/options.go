package paginate

import (
	"log/slog"
	"time"
)

// Options configure a run. The zero value is a usable configuration: the
// stream named after the sink's destination, no checkpoint store (unless the
// sink is one), the default [Retry] policy, one page fetched ahead (up to a
// group's worth for [Run], see [Group]), no limits, no logging.
type Options[T any] struct {
	// Stream is the key the checkpoint is stored under; use one per
	// endpoint and filter. Empty means the name of the sink's destination
	// (see [Identifier]), or "default".
	Stream string

	// Store keeps the checkpoint. Nil means the sink, when it is a
	// [Store] (and then a [Committer] commits each page with its
	// checkpoint); without either, every run starts from the start.
	Store Store

	// Identity adds parts to the identity a checkpoint is saved with,
	// replacing the paginator's and the sink's of the same name (see
	// [Identity]).
	Identity Identity

	// Restart starts a stream whose checkpoint was saved by other
	// settings over, instead of failing with ErrCheckpointMismatch: from
	// its last completed sync's mark when only the paging changed (the
	// page size, say), from the very start when what the stream reads or
	// where it goes changed. Result.Restarted says what changed. A
	// completed sync's checkpoint needs it only for the latter: its mark
	// means the same records however they are paged.
	Restart bool

	// HighWater returns an item's incremental mark, such as its updatedAt
	// in fixed-width RFC 3339, compared as a string. The largest committed
	// is the next sync's Position.Since (see "Incremental syncs").
	HighWater func(T) string

	// Key returns an item's identity, such as its primary key, for drift
	// detection and page fingerprints. Nil means the sink's, when it is a
	// [Keyer].
	Key func(T) string

	// Checks are what the runner checks pages against besides their
	// fingerprints: the API's order, the keys committed before, and a
	// page that repeats the one before it (see [Checks]).
	Checks Checks[T]

	// Retry is the policy for failed fetches.
	Retry Retry

	// Concurrency is how many pages may be fetched at once when the
	// paginator is a [Planner]; they still reach the sink in order. Zero
	// means 4; 1 fetches one page at a time.
	Concurrency int

	// Prefetch is how many pages may be fetched ahead of the page the
	// sink is writing. Zero means 1; [Run] goes up to Group.Pages ahead.
	Prefetch int

	// Group bounds group commit in [Run]: the pages waiting for the sink
	// are committed together (see [Group]).
	Group Group

	// Limits stop the run early, with the checkpoint at the next page.
	Limits Limits

	// Logger receives one structured line per committed page and one per
	// retry. Nil means silence.
	Logger *slog.Logger

	// Observe, when set, is called for every Event: page fetched, page
	// committed, retry scheduled, run done. Calls never overlap.
	Observe func(Event)
}

// Checks say what the runner checks pages against, beyond the fingerprint
// that catches a loop, to see a source that changes during a sync (see
// "Drift" in the package documentation and docs/consistency.md). The zero
// value checks the order and keys only where the paginator asks for it
// (see [Describer]), and takes a repeated page for a loop.
type Checks[T any] struct {
	// Order, when set, compares two items in the order the API promises,
	// such as by updatedAt, then id: a page whose first item sorts before
	// the previous page's last is drift. Nil means none, or HighWater's
	// marks for a paginator that reads by position (see [Describer]).
	Order func(a, b T) int

	// TrackKeys, with Key, remembers every key committed in the sync, in
	// bounded memory, and reports a key seen twice as drift. It is on for
	// an incremental sync by position whose key is known.
	TrackKeys bool

	// RepeatedPageEnds takes a page that repeats the page before it for
	// the end of the data (StopRepeatedPage), as servers that answer a
	// page past the end with their last page need; without it, such a
	// run fails with a *LoopError but saves the same checkpoint.
	RepeatedPageEnds bool
}

// Limits stop a run early on a page boundary, with the checkpoint at the
// next page, so that a later run goes on from there. The zero value has no
// limits.
type Limits struct {
	// MaxPages stops the run after this many pages, with StopMaxPages.
	MaxPages int

	// MaxItems stops the run after the page that brings the items to at
	// least MaxItems, with StopMaxItems; whole pages are always written.
	MaxItems int64
}

// stream returns the stream's name: Options.Stream, or the name the sink
// gives its destination, so that two tables synced without a Stream never
// share a checkpoint.
func (o *Options[T]) stream(sink any) string {
	switch {
	case o.Stream != "":
		return o.Stream
	case destination(sink) != "":
		return destination(sink)
	}
	return "default"
}

func (o *Options[T]) prefetch() int {
	if o.Prefetch <= 0 {
		return 1
	}
	return o.Prefetch
}

// Group configures group commit. When the sink is slower than the fetch
// side, pages queue up between them; [Run] then commits the pages that are
// waiting, in order, in one step with the last one's checkpoint: one
// Committer.Commit of their items together, or one Sink.Write and one
// Store.Save. One transaction for many pages costs about what one costs for
// one page, so a sink bound by its commits (SQLite, PostgreSQL, a file
// synced on every commit) keeps up with the fetches.
//
// Nothing else changes: the checkpoint is never ahead of committed data, a
// crash resumes at the first page not committed, and progress events and
// log lines still come one per page, in order, each after its group's
// commit. When nothing waits, a group is one page, so a sync bound by the
// API's latency checkpoints after every page. A group whose commit fails is
// committed again one page at a time, so that the pages before a bad record
// are kept and the error names the page that holds it.
//
// To let groups form, the fetch side of Run may fetch ahead of the sink up
// to Pages pages (or Prefetch, when more) that hold at most Items items
// together, or one page larger than that. So a run holds the pages waiting
// and the group being committed, at most 2*Pages pages and about 2*Items
// records (or one page of more), plus the pages being fetched: up to
// 2*Concurrency when fetching in parallel. With pages of 50 records of a
// few hundred bytes that is a few MiB. The iterators ([Pages], [All]) hand
// over one page at a time and do not group.
type Group struct {
	// Pages is the most pages committed in one step. Zero means 64; 1
	// commits every page on its own.
	Pages int

	// Items is the most items committed in one step; a page that would
	// take a group past it starts the next group, and a page larger than
	// Items is committed on its own. Zero means 10,000.
	Items int

	// Wait is how long a group that could take more pages waits for the
	// next page to arrive before it is committed. Zero means no wait: a
	// group holds the pages already fetched when the sink is ready.
	Wait time.Duration
}

func (g Group) pages() int {
	if g.Pages <= 0 {
		return 64
	}
	return g.Pages
}

func (g Group) items() int {
	if g.Items <= 0 {
		return 10_000
	}
	return g.Items
}

func (o *Options[T]) concurrency() int {
	if o.Concurrency <= 0 {
		return 4
	}
	return o.Concurrency
}
