// Package paginate drives paginated APIs: it fetches every page through a
// [Paginator], hands each page's items to a [Sink], saves a [Checkpoint]
// after each page, and resumes from the last checkpoint after a crash or a
// cancellation.
//
// The model has three parts. A Paginator fetches the page at a [Position]
// and says where the next page starts. A Sink accepts a page's items. A
// [Store] keeps one Checkpoint per stream. [Run] ties them together with
// retries, loop detection, limits, prefetching and, where the paginator can
// plan ahead, ordered parallel fetching. [All] and [Pages] offer the same
// engine as a range-over-func iterator for callers who want no sink, and
// [Iterate] keeps the run's [Result] for after the loop.
//
// The runner guarantees at-least-once delivery and never saves a checkpoint
// ahead of data the sink has accepted: a page is written, then its
// checkpoint is saved, then the runner moves on. A sink that implements
// [Committer] receives the items and the checkpoint together and can commit
// both in one transaction.
//
// # Incremental syncs
//
// Options.HighWater gives each item a mark, such as its updatedAt. Marks
// are compared as strings, so they must sort as they order: a fixed-width
// form (UTC, the same precision). The largest mark committed is saved in
// the checkpoint, and a completed sync hands it to the next one as
// Position.Since, which a paginator sends as its lower bound. It saves
// requests only when the paginator sends Since; Run warns when a
// paginator that describes itself does not (see [Describer]).
//
// A paginator may vouch for a mark itself with Page.HighWater: every
// record below it that the sync's filter selects has been read, on this
// page or the pages before it. The runner takes it into the checkpoint's
// mark as it takes a record's (the largest wins), with or without
// Options.HighWater, so it must have the same fixed-width form. A
// paginator that reads a closed window sets it on the last page to the
// window's end, so that the next sync starts exactly there. A sync that
// drifted or ended at a depth limit keeps its Since, whatever the marks.
//
// # Loops and repeated pages
//
// Every page is fingerprinted: by Page.Fingerprint when the paginator
// gives one, else by the items' keys (Options.Key) and their HighWater
// marks when set, so that a record updated and served again is not taken
// for a repeated page, else by the items' JSON encoding. Two positions
// served the same page stop the run with ErrLoop. The last committed
// page's fingerprint is saved in the checkpoint, so that a resumed run
// recognises that page if the server serves it again. A paginator's own
// fingerprint must not depend on the process: use a fixed hash such as
// [Fingerprint], never one with a random seed. A page that repeats the
// page just before it is how servers that clamp past-the-end page numbers
// (json-server, some WordPress and Shopify-era APIs) end their data:
// Checks.RepeatedPageEnds takes it for the end, StopRepeatedPage, without
// committing it again. Without it the run fails with a *LoopError that
// says so, but saves the same checkpoint, since every page before the
// repeat was read: later runs go on as after any complete sync, missing
// nothing. A repeat of any earlier page is a loop either way.
//
// # Drift
//
// A source that changes during a sync can move records across page
// boundaries. The runner reports what it sees as [Drift] (Result.Drifts,
// EventDrift), and a sync that drifted keeps its Since, so that the next
// sync reads again what may have been skipped. Checks.Order reports a page
// whose first item sorts before the previous page's last. Checks.TrackKeys
// reports a key committed twice: it keeps 64-bit hashes of the first
// 65,536 keys, then a fixed 16 MiB probabilistic set that never misses a
// key seen before but may, rarely, take a new key for one (a drift that
// did not happen, so the next sync reads from the same mark again;
// nothing is skipped), below 1 in 100,000 syncs up to about a million
// records and likely past about four million. Both are on for an
// incremental sync by a paginator that reads by position (see
// [Describer]) when a key is known. A [KeyStore] keeps the keys across
// the runs of a sync that stops and resumes; with another store, a
// resumed run counts as drifted (DriftResume). See docs/consistency.md.
package paginate
