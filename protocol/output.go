package protocol

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// A Writer is how a protocol writes what a run commits. Calls never
// overlap, and come in the order of the commits.
type Writer interface {
	// Commit writes the records of one committed page, if any, and then,
	// when c.State is not nil, the state that follows them. It must not
	// keep c.
	Commit(c *Commit) error
}

// A GlobalWriter is a Writer that writes the state of every stream at
// once, as Singer's STATE and Fivetran's checkpoints do, rather than one
// stream's, as Airbyte's per-stream STATE does. The Output then paces
// states by the size of the whole state. It may be implemented by a
// Writer.
type GlobalWriter interface {
	Writer
	GlobalState() bool
}

// A StatusWriter is a Writer that reports each stream's status as the
// stream starts and ends, as Airbyte's stream statuses do. StatusWriter
// may be implemented by a Writer: the Output calls StreamStarted when the
// stream starts, before any commit of it, and StreamDone as soon as it
// ends, after its last commit and the state that covers it, while other
// streams may still run. err is the stream's error, nil when it
// completed. Calls never overlap with each other or with Commit.
type StatusWriter interface {
	Writer
	StreamStarted(stream string) error
	StreamDone(stream string, err error) error
}

// A state is written after every commit while it is small; a larger one,
// such as a child stream's of many partitions, whose every state holds
// each partition's checkpoint, at most once each stateInterval, so that
// the states written grow with the time a sync takes rather than with
// its partitions times its pages. The records are written as they commit
// either way, so a state never comes before a record it covers, and a
// sync resumed from the last state written repeats at most the records
// committed in the interval before it stopped.
const (
	smallState    = 64 << 10
	stateInterval = time.Second
)

// Commit is one commit of a stream: the records of a page, or of a few
// consecutive pages, with the checkpoint after them; or a checkpoint
// alone, as a child stream saves its place in its parent's list.
type Commit struct {
	// Stream is the stream's name; Partition the partition key of a child
	// stream's partition, empty for a top-level stream and a child's
	// list.
	Stream    string
	Partition string
	// Table is the table of the records; nil when there are none.
	Table *schema.Table
	// Rows holds the column values of N records, row after row, one
	// value per column of Table.
	Rows []schema.Value
	N    int
	// Ops holds the operation of each record; nil means all upserts.
	Ops []schema.Op
	// Checkpoint is the checkpoint after the records.
	Checkpoint paginate.Checkpoint
	// State is the state of every stream, Checkpoint included, when it
	// is due to be written after the records; nil when not (see
	// [Output.Flush]).
	State *State

	enc *recordEncoder
}

// Row returns the column values of record i.
func (c *Commit) Row(i int) []schema.Value {
	n := len(c.Table.Columns)
	return c.Rows[i*n : (i+1)*n]
}

// Op returns the operation of record i.
func (c *Commit) Op(i int) schema.Op {
	if c.Ops == nil {
		return schema.Upsert
	}
	return c.Ops[i]
}

// AppendJSON appends record i as a JSON object of its columns, written as
// [AppendValue] writes them.
func (c *Commit) AppendJSON(b []byte, i int) ([]byte, error) {
	return c.enc.append(b, c.Row(i))
}

// ErrDescribeOnly is the error of a sink of an Output without a Writer,
// which describes a connector (its spec, its catalog) but cannot run it.
var ErrDescribeOnly = errors.New("protocol: the connector was built to be described, not run")

// Output is where the sinks of one connector send what they commit: the
// protocol's Writer, with the State they load checkpoints from. An Output
// without a Writer serves to describe a connector.
type Output struct {
	w      Writer
	status StatusWriter // w, when it is one
	global bool
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	state   *State
	failed  error
	written map[string]time.Time // when each stream's state (or, global, "") was last written
	pending map[string]bool      // streams whose state has changed since
}

// NewOutput returns an Output that writes to w, loads checkpoints from
// state, and gives the connector log. A nil w builds connectors to
// describe them only; a nil state is an empty one; a nil log discards.
func NewOutput(w Writer, state *State, log *slog.Logger) *Output {
	if state == nil {
		state = NewState()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := &Output{w: w, state: state, log: log, now: time.Now,
		written: make(map[string]time.Time), pending: make(map[string]bool)}
	if g, ok := w.(GlobalWriter); ok {
		o.global = g.GlobalState()
	}
	o.status, _ = w.(StatusWriter)
	return o
}

// Logger returns the logger to give the connector (connector.Config's
// Logger), whose lines the protocol carries to the platform.
func (o *Output) Logger() *slog.Logger { return o.log }

// WithState calls f with the state, while no commit runs.
func (o *Output) WithState(f func(*State)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(o.state)
}

// Err returns the error of the Writer that stopped the output, if any:
// once a write failed, every later commit fails with it.
func (o *Output) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed
}

func (o *Output) load(key string) (paginate.Checkpoint, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state.load(key)
}

// commit saves c's checkpoint in the state and hands c to the Writer,
// with the state when it is due.
func (o *Output) commit(c *Commit) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.w == nil {
		return ErrDescribeOnly
	}
	if o.failed != nil {
		return o.failed
	}
	o.state.save(c.Checkpoint)
	key := c.Stream
	if o.global {
		key = ""
	}
	now := o.now()
	if o.state.size(key) <= smallState || now.Sub(o.written[key]) >= stateInterval {
		c.State = o.state
		o.written[key] = now
		delete(o.pending, key)
	} else {
		o.pending[key] = true
	}
	return o.writeLocked(c)
}

func (o *Output) writeLocked(c *Commit) error {
	if err := o.w.Commit(c); err != nil {
		o.failed = fmt.Errorf("protocol: write the output: %w", err)
		return o.failed
	}
	return nil
}

// Flush writes the states that commits changed but that were not yet due,
// each as a Commit without records: the protocols call it once the
// connector's run has returned.
func (o *Output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failed != nil {
		return o.failed
	}
	for _, key := range slices.Sorted(maps.Keys(o.pending)) {
		if err := o.flushLocked(key); err != nil {
			return err
		}
	}
	return nil
}

// flushLocked writes the state of key (a stream's name, or "" for every
// stream's) as a Commit without records.
func (o *Output) flushLocked(key string) error {
	delete(o.pending, key)
	o.written[key] = o.now()
	return o.writeLocked(&Commit{Stream: key, State: o.state})
}

// observe hands a stream's start and end to the StatusWriter, the end
// after the stream's state: held back by the pacing, or not yet written
// in this run at all, so that each stream that ends writes its state.
func (o *Output) observe(e connector.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.w == nil || o.failed != nil {
		return
	}
	switch e.Kind {
	case connector.EventStreamStarted:
		if o.status != nil {
			if err := o.status.StreamStarted(e.Stream); err != nil {
				o.failed = fmt.Errorf("protocol: write the output: %w", err)
			}
		}
	case connector.EventStreamDone:
		key := e.Stream
		if o.global {
			key = ""
		}
		if o.pending[key] || o.written[key].IsZero() && o.state.size(key) > 0 {
			if o.flushLocked(key) != nil {
				return
			}
		}
		var err error
		if e.Result != nil {
			err = e.Result.Err
		}
		if o.status != nil {
			if werr := o.status.StreamDone(e.Stream, err); werr != nil {
				o.failed = fmt.Errorf("protocol: write the output: %w", werr)
			}
		}
	}
}
