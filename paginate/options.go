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
	// Stream is the key the checkpoint is stored under. Use one per
	// endpoint and filter. Empty means the name of the sink's destination
	// (its table, or file; see [Identifier]), or "default" for a sink
	// that names none.
	Stream string

	// Identity adds parts to the identity a checkpoint is saved with (see
	// [Identity]), such as the endpoint and page size of a hand-written
	// paginator that does not describe itself. Its parts replace the
	// paginator's and the sink's of the same name.
	Identity Identity

	// Restart, when the stream's checkpoint was saved by other settings
	// (see [Identity]), starts the stream over from its last completed
	// sync's mark instead of failing with ErrCheckpointMismatch. The
	// Result's Restarted field then says what changed.
	Restart bool

	// Store keeps the checkpoint. When nil and the sink implements Store,
	// the sink is the store, and if it also implements Committer each
	// page's items and checkpoint are committed together. When both are
	// absent the run keeps no checkpoint and always starts from the start.
	Store Store

	// HighWater returns an item's incremental mark, such as its updatedAt
	// in RFC 3339. Marks are compared as strings, so they must sort as
	// they order: use a fixed-width form (UTC, same precision). The
	// largest mark committed is saved in the checkpoint, and a completed
	// sync hands it to the next one as Position.Since. It saves requests
	// only when the paginator sends Since (such as SinceParam); Run warns
	// when a paginator that describes itself does not (see [Describer]).
	HighWater func(T) string

	// Key returns an item's identity, such as its primary key. Nil means
	// the sink's, when it is a [Keyer] (the database sinks give their
	// table's primary key). The runner uses it for drift detection
	// (Order, TrackKeys), and to
	// fingerprint pages whose paginator gives no Page.Fingerprint: by their
	// keys, and their HighWater marks when set, so that a record updated
	// and served again is not taken for a repeated page. Without either,
	// pages are fingerprinted by their items' JSON encoding. Two positions
	// served the same page stop the run with ErrLoop.
	Key func(T) string

	// RepeatedPageEnds takes a page that repeats the page before it for the
	// end of the data: the run stops with StopRepeatedPage, a complete
	// sync, without committing the repeated page again. Servers that
	// answer a page number past the end with their last page (json-server,
	// some WordPress and Shopify-era APIs) need it. Without it such a run
	// fails with a *LoopError that says so, but saves the same checkpoint,
	// since every page before the repeat was read: later runs go on as
	// after any complete sync, missing nothing, and an incremental one
	// (whose requests send Since) reads only from the mark. A repeat of
	// any earlier page is a loop either way.
	RepeatedPageEnds bool

	// Order, when set, compares two items in the order the API promises
	// (for example by updatedAt, then id). The runner then reports as
	// drift a page whose first item sorts before the previous page's last.
	// Nil means no order, unless the paginator reads by position and
	// sends Since (see [Describer]): then HighWater's marks are the order,
	// checked within each page too.
	Order func(a, b T) int

	// TrackKeys, with Key, makes the runner remember every key committed
	// in the run and report a key seen twice as drift. It keeps 64-bit
	// hashes of the first 65,536 keys, then a fixed 16 MiB probabilistic
	// set that never misses a key seen before but may, rarely, take a new
	// key for one: that reports a drift that did not happen, so the next
	// sync re-reads from the same mark; nothing is skipped. Such false
	// drift stays below 1 in 100,000 syncs up to about a million records
	// and becomes likely past about four million. Off by default, but
	// turned on for an incremental sync by a paginator that reads by
	// position when a key is known (see [Describer]). A [KeyStore] keeps
	// the keys across the runs of a sync that stops and resumes; with
	// another store, a resumed run counts as drifted (DriftResume).
	TrackKeys bool

	// Retry is the policy for failed fetches.
	Retry Retry

	// Prefetch is how many pages may be fetched ahead of the page the
	// sink is writing. Zero means 1: page N+1 is fetched while page N is
	// written. [Run] lets the fetch side run up to Group.Pages ahead when
	// that is more, so that a group can form (see [Group]).
	Prefetch int

	// Group bounds group commit in [Run]: the pages that wait for the sink
	// are committed together. The zero value groups up to 64 pages and
	// 10,000 items, without waiting for pages that have not arrived.
	Group Group

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
