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
package paginate
