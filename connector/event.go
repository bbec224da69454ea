package connector

import "github.com/pagekit/pagekit/paginate"

// EventKind says what an [Event] reports.
type EventKind int

// The kinds of events a connector run reports to Config.Observe.
const (
	// EventStreamStarted: a stream started; Stream names it.
	EventStreamStarted EventKind = iota + 1
	// EventRun: one step of one run (a page fetched or committed, a
	// retry, drift, a run done), in Run: of a top-level stream, of a
	// partition (Partition set), or of a child stream's read of its
	// parent's list (Parents set).
	EventRun
	// EventStreamDone: a stream ended; Result says how.
	EventStreamDone
)

var eventNames = [...]string{"", "stream started", "run", "stream done"}

// String returns the kind in words.
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(?)"
}

// Event is one step of a connector run, for progress displays and
// metrics.
type Event struct {
	// Kind says what the event reports, and so which fields are set.
	Kind EventKind
	// Stream is the stream's name.
	Stream string
	// Partition is the partition key of a child stream's partition;
	// empty for a top-level stream and for a child's parent list.
	Partition string
	// Parents is set for the events of a child stream's read of its
	// parent's list.
	Parents bool
	// Run is the runner's event (EventRun). Its Stream is the
	// checkpoint key, "<stream>/<partition>" for a partition.
	Run paginate.Event
	// Result is the stream's outcome (EventStreamDone).
	Result *StreamResult
}

// A StreamObserver is a destination that follows the run of its stream.
// StreamObserver may be implemented by a stream's destination, such as the
// sinks of the platform protocols, which report each stream's status as it
// starts and as it ends while the others run on: [Connector.Run] calls
// ObserveStream with the stream's EventStreamStarted before its first
// request, and with its EventStreamDone after its last commit. The calls
// of different streams may come at once.
type StreamObserver interface {
	ObserveStream(Event)
}
