package paginate

import "time"

// EventKind says what an [Event] reports.
type EventKind int

// The kinds of events a run reports to Options.Observe.
const (
	// EventPageFetched: a page arrived from the paginator.
	EventPageFetched EventKind = iota + 1
	// EventPageCommitted: a page's items were written and its checkpoint
	// saved.
	EventPageCommitted
	// EventRetry: a fetch failed and will be tried again after Delay.
	EventRetry
	// EventDone: the run ended; Result holds the outcome.
	EventDone
	// EventDrift: a committed page showed that the source changed during
	// the sync; Drift says how.
	EventDrift
)

var eventNames = [...]string{"", "page fetched", "page committed", "retry", "done", "drift"}

// String returns the kind in words.
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(?)"
}

// Event is one step of a run, for progress bars and metrics.
type Event struct {
	// Kind says what the event reports, and so which fields are set.
	Kind EventKind
	// Stream is the run's stream (Options.Stream, or "default").
	Stream string
	// Position is the page's position (fetched, committed, retry).
	Position Position
	// Items is the number of items on the page (fetched, committed).
	Items int
	// TotalItems and TotalPages are the server's totals as last reported,
	// zero when unknown.
	TotalItems int64
	TotalPages int64
	// Pages and ItemsDone count what has been committed so far in this run.
	Pages     int
	ItemsDone int64
	// Attempt is the attempt that failed and Delay the wait before the
	// next one (retry).
	Attempt int
	Delay   time.Duration
	// Err is the error that caused a retry.
	Err error
	// Result is the run's outcome (done).
	Result *Result
	// Drift is what was detected (drift).
	Drift *Drift
}

// Result is the outcome of a run.
type Result struct {
	// Stream is the stream the run synced and checkpointed.
	Stream string
	// Pages and Items count what was committed in this run.
	Pages int
	Items int64
	// Retries counts failed attempts that were tried again.
	Retries int
	// Duration is the run's wall time.
	Duration time.Duration
	// Stop says why the run ended.
	Stop StopReason
	// Resumed is true when the run went on from a mid-sync checkpoint.
	Resumed bool
	// TotalItems and TotalPages are the server's totals as last reported,
	// zero when unknown.
	TotalItems int64
	TotalPages int64
	// Checkpoint is the last checkpoint saved, or the one loaded when no
	// page was committed.
	Checkpoint Checkpoint
	// Restarted, when not nil, says that the stream's checkpoint was saved
	// by other settings and that Options.Restart started the stream over,
	// and what changed.
	Restarted *MismatchError
	// Expired, when not nil, is the fetch that found a position of the
	// sync expired (it matches ErrPositionExpired): the run then
	// restarted the sync from its last completed mark, and the pages and
	// items above count both parts.
	Expired *FetchError
	// Drifts lists the first 100 signs that the source changed during the
	// run (see Options.Checks.Order and Options.Checks.TrackKeys); DriftCount counts all.
	Drifts     []Drift
	DriftCount int
	// Warnings say what the run could not protect against a source that
	// changes during a sync, such as a sync by position without a key
	// (see [Describer]). Run logs each when it finds it, most before the
	// first request: at level WARN, as "paginate: warning" with the text in
	// the attribute "warning".
	Warnings []string
}
