package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/pagekit/pagekit/internal/forward"
	"github.com/pagekit/pagekit/paginate"
)

// Partition is one unit of a connector's work, which [Connector.RunPartition]
// runs on its own: a whole top-level stream, or the partition of one parent
// record of a child stream. It encodes to JSON, so that a job queue can
// carry it.
type Partition struct {
	// Stream is the stream's name.
	Stream string `json:"stream"`
	// Key is the partition key of a child stream's partition, empty for
	// a top-level stream.
	Key string `json:"key,omitempty"`
	// Parent is the parent record of a child stream's partition, as JSON.
	Parent json.RawMessage `json:"parent,omitempty"`
}

// Checkpoint returns the key the partition's checkpoint is kept under:
// the stream's name, or "<stream>/<key>".
func (p Partition) Checkpoint() string { return checkpointName(p.Stream, p.Key) }

// Partitions lists the partitions of the stream named stream, calling add
// with them a batch at a time: for a top-level stream, its one partition;
// for a child stream, first the partitions that failed in an earlier Run
// and wait for a retry, then the partitions of each page of the parent's
// list, as the pages arrive.
//
// The list is read from the child's saved position, which is saved after
// each call of add returns nil, so add must make the partitions durable
// (enqueue them) before it returns: a Partitions interrupted at any moment
// goes on, when called again, from the first batch whose add did not
// return, and may give that batch again. As in Run, the list holds every
// parent, or only those changed since the last list that completed (see
// ChildOf.Every), and a list that drifted (parents that changed shifted
// its pages) keeps its starting mark, so that the next list gives again
// the parents from there. An error from add stops the list and is
// returned.
func (c *Connector) Partitions(ctx context.Context, stream string, add func(context.Context, []Partition) error) (paginate.Result, error) {
	return c.alone(stream, stream, func(x *execution, s *Stream) (paginate.Result, error) {
		return s.impl.partitions(ctx, x, s, add)
	})
}

// alone runs f on the stream named stream outside a Run, within the
// connector's limits, and raises on the caller's goroutine a panic from any
// goroutine f starts. checkpoint names the result of an unknown stream.
func (c *Connector) alone(stream, checkpoint string, f func(*execution, *Stream) (paginate.Result, error)) (res paginate.Result, err error) {
	s := c.byName[stream]
	if s == nil {
		return paginate.Result{Stream: checkpoint, Stop: paginate.StopError},
			fmt.Errorf("%w: %q (the streams are %v)", ErrUnknownStream, stream, c.names())
	}
	x := c.newExecution(nil)
	defer x.repanic()
	func() {
		defer x.recover()
		res, err = f(x, s)
	}()
	return res, err
}

func (t *top[T]) partitions(ctx context.Context, _ *execution, s *Stream, add func(context.Context, []Partition) error) (paginate.Result, error) {
	if err := add(ctx, []Partition{{Stream: s.name}}); err != nil {
		return paginate.Result{Stream: s.name, Stop: stopFor(ctx)}, err
	}
	return paginate.Result{Stream: s.name, Stop: paginate.StopLastPage}, nil
}

func (c *child[P, C]) partitions(ctx context.Context, x *execution, s *Stream, add func(context.Context, []Partition) error) (res paginate.Result, err error) {
	if c.of.Keep == nil && x.c.cfg.Logger != nil {
		x.c.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "connector: ChildOf.Keep is not set, so each partition carries its whole "+
			"parent record, as synced, wherever it goes (a job queue keeps a copy for as long as it keeps the job): set Keep "+
			"to the part of the parent that Key and Paginator read", slog.String("stream", s.name))
	}
	st := c.store()
	// The list's state is kept under the stream's name: a worker that
	// listed the partitions must not keep another from listing them later.
	defer func() { err = unlock(ctx, st, s.name, s.name, err) }()
	state, found, err := loadState(ctx, st, s.name)
	if err != nil {
		return paginate.Result{Stream: s.name, Stop: stopFor(ctx)}, err
	}
	if len(state.Failed) > 0 {
		parts := make([]Partition, len(state.Failed))
		for i, fp := range state.Failed {
			parts[i] = Partition{Stream: s.name, Key: fp.Key, Parent: fp.Parent}
		}
		if err := add(ctx, parts); err != nil {
			return paginate.Result{Stream: s.name, Stop: stopFor(ctx)}, err
		}
		state.Failed = nil
		if err := saveState(ctx, st, s.name, state); err != nil {
			return paginate.Result{Stream: s.name, Stop: stopFor(ctx)}, err
		}
		found = true
	}
	l := &enumeration[P, C]{c: c, name: s.name, store: st, state: state, found: found, add: add}
	return c.readList(ctx, x, s.name, l, l)
}

// enumeration is the sink and the store of Partitions' read of a parent's
// list: each page becomes a batch for add, and the position is saved in the
// child's state once add returned.
type enumeration[P, C any] struct {
	c     *child[P, C]
	name  string
	store paginate.Store
	state childState
	found bool
	add   func(context.Context, []Partition) error
}

func (e *enumeration[P, C]) Write(ctx context.Context, items []P) error {
	parts := make([]Partition, 0, len(items))
	for i := range items {
		key := e.c.of.Key(items[i])
		if key == "" {
			return fmt.Errorf("connector: stream %q: parent record %d of the page has an empty partition key", e.name, i+1)
		}
		raw, err := e.c.kept(items[i], key)
		if err != nil {
			return fmt.Errorf("connector: stream %q: %w", e.name, err)
		}
		parts = append(parts, Partition{Stream: e.name, Key: key, Parent: raw})
	}
	if len(parts) == 0 {
		return nil
	}
	return e.add(ctx, parts)
}

func (e *enumeration[P, C]) Load(context.Context, string) (paginate.Checkpoint, bool, error) {
	return listStart(e.state.List, e.c.of.Every), e.found, nil
}

func (e *enumeration[P, C]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	e.state.List = cp
	if err := saveState(ctx, e.store, e.name, e.state); err != nil {
		return err
	}
	e.found = true
	return nil
}

// SaveKeys keeps the key hashes of a page of the list in the child's
// store, written at the latest with the state saved after the page.
func (e *enumeration[P, C]) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	return forward.SaveKeys(ctx, e.store, stream, items, keys)
}

// LoadKeys returns the key hashes of the list's pages up to upTo records.
func (e *enumeration[P, C]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	return forward.LoadKeys(ctx, e.store, stream, upTo)
}

// RestartsStreams is the child's store's (see listStore.RestartsStreams).
func (e *enumeration[P, C]) RestartsStreams() bool { return forward.RestartsStreams(e.store) }

func (c *child[P, C]) runPartition(ctx context.Context, x *execution, s *Stream, p Partition) (paginate.Result, error) {
	fail := func(err error) (paginate.Result, error) {
		return paginate.Result{Stream: p.Checkpoint(), Stop: paginate.StopError}, fmt.Errorf("connector: stream %q, partition %q: %w", s.name, p.Key, err)
	}
	if p.Key == "" || len(p.Parent) == 0 {
		return fail(fmt.Errorf("a child stream's partition needs its key and its parent record"))
	}
	var parent P
	if err := json.Unmarshal(p.Parent, &parent); err != nil {
		return fail(fmt.Errorf("decode the parent record: %w", err))
	}
	if k := c.of.Key(parent); k != p.Key {
		return fail(fmt.Errorf("the parent record's key is %q", k))
	}
	return c.run(ctx, x, s.name, p.Key, parent)
}
