package protocol

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// SinkConfig configures a [Sink]. The zero value upserts every record and
// declares no cursor.
type SinkConfig[T any] struct {
	// Cursor names the column the stream's incremental mark
	// (paginate.Options.HighWater) is read from, such as "updatedAt":
	// catalogs show it as the stream's cursor (Airbyte's
	// default_cursor_field, Singer's replication-key). Empty declares
	// none.
	Cursor string
	// Op picks each record's operation; nil upserts every record.
	// Deletes are written as the platforms' deletes, with the key
	// columns only.
	Op func(T) schema.Op
}

// Sink is the destination of one stream run under a protocol: it turns
// each committed page into the records of the table of its mapping and
// hands them, with the checkpoint that follows them, to the Output's
// Writer, and it loads checkpoints from the Output's state. It is a
// paginate.Sink, a paginate.Committer, a paginate.RestartingStore and a
// connector.Tabler, safe for concurrent use, so one Sink may serve a
// child stream's partitions at once.
//
// The runner must commit through it, so that no record goes out without
// the state after it: the stream's Options.Store must be nil.
type Sink[T any] struct {
	out   *Output
	m     *schema.Mapping[T]
	table schema.Table
	cfg   SinkConfig[T]
	enc   *recordEncoder
	err   error
	bufs  sync.Pool // *[]schema.Value
}

// NewSink returns the sink of the records of m's table, writing to out.
func NewSink[T any](out *Output, m *schema.Mapping[T], cfg SinkConfig[T]) *Sink[T] {
	s := &Sink[T]{out: out, m: m, cfg: cfg}
	if m == nil || out == nil {
		s.err = fmt.Errorf("protocol: NewSink needs an Output and a mapping")
		return s
	}
	s.table = m.Table()
	s.enc = newRecordEncoder(&s.table)
	if cfg.Cursor != "" && s.table.ColumnIndex(cfg.Cursor) < 0 {
		s.err = fmt.Errorf("protocol: table %q: the cursor %q is not one of its columns", s.table.Name, cfg.Cursor)
	}
	return s
}

// Table returns the table of the sink's mapping.
func (s *Sink[T]) Table() schema.Table {
	if s.m == nil {
		return schema.Table{}
	}
	return s.m.Table()
}

// Write refuses records without a checkpoint: the stream's Options.Store
// is set, so the runner would save its checkpoints there, and the
// platform would get records without the state that covers them.
func (s *Sink[T]) Write(context.Context, []T) error {
	return fmt.Errorf("protocol: table %q: records written without their checkpoint: leave the stream's Options.Store nil, so that its checkpoints go to the platform after its records", s.table.Name)
}

// Commit writes the records of items and then the state after cp.
func (s *Sink[T]) Commit(_ context.Context, items []T, cp paginate.Checkpoint) error {
	if s.err != nil {
		return s.err
	}
	stream, part, _ := strings.Cut(cp.Stream, "/")
	c := &Commit{Stream: stream, Partition: part, Checkpoint: cp, N: len(items), enc: s.enc}
	if len(items) > 0 {
		bp, _ := s.bufs.Get().(*[]schema.Value)
		if bp == nil {
			bp = new([]schema.Value)
		}
		defer func() {
			clear(*bp) // keep no record's bytes alive
			s.bufs.Put(bp)
		}()
		rows, err := s.m.Rows(items, *bp)
		*bp = rows
		if err != nil {
			return err
		}
		c.Table, c.Rows = &s.table, rows
		if s.cfg.Op != nil {
			c.Ops = make([]schema.Op, len(items))
			for i := range items {
				c.Ops[i] = s.cfg.Op(items[i])
			}
		}
	}
	return s.out.commit(c)
}

// Load returns the checkpoint of stream from the Output's state.
func (s *Sink[T]) Load(_ context.Context, stream string) (paginate.Checkpoint, bool, error) {
	if s.err != nil {
		return paginate.Checkpoint{}, false, s.err
	}
	cp, ok := s.out.load(stream)
	return cp, ok, nil
}

// RestartsStreams reports true: a platform gives the people who run a
// connector no Options.Restart to set, so a stream whose state was saved
// by other settings starts over (see paginate.RestartingStore) instead of
// failing every later sync: from its last completed mark when only the
// paging changed, from the very start when what it reads changed.
func (s *Sink[T]) RestartsStreams() bool { return true }

// Save writes the state after cp, a checkpoint without records.
func (s *Sink[T]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	return s.Commit(ctx, nil, cp)
}

// ObserveStream tells the Output when the sink's stream starts and ends
// (see [StatusWriter]); connector.Run calls it.
func (s *Sink[T]) ObserveStream(e connector.Event) {
	if s.out != nil {
		s.out.observe(e)
	}
}

func (s *Sink[T]) describe() (Stream, error) {
	return Stream{Table: s.Table(), Cursor: s.cfg.Cursor, Deletes: s.cfg.Op != nil}, s.err
}

// describer is a Sink of any record type.
type describer interface {
	describe() (Stream, error)
}

// Stream is one stream of a connector as the protocols describe it.
type Stream struct {
	// Name is the stream's name; Parent its parent's, empty for a
	// top-level stream.
	Name   string
	Parent string
	// Table is the table of its records.
	Table schema.Table
	// Cursor is the column of its incremental mark, empty when it has
	// none (SinkConfig.Cursor).
	Cursor string
	// Deletes is set when records may be deletes (SinkConfig.Op).
	Deletes bool
}

// Streams describes the streams of c, in order. It fails when a stream's
// destination is not a [Sink].
func Streams(c *connector.Connector) ([]Stream, error) {
	var out []Stream
	for _, info := range c.Discover() {
		d, ok := info.Destination.(describer)
		if !ok {
			return nil, fmt.Errorf("protocol: the destination of stream %q is a %T, not a protocol.Sink: build it with protocol.NewSink", info.Name, info.Destination)
		}
		st, err := d.describe()
		if err != nil {
			return nil, fmt.Errorf("protocol: stream %q: %w", info.Name, err)
		}
		st.Name, st.Parent = info.Name, info.Parent
		out = append(out, st)
	}
	return out, nil
}
