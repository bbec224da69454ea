package connector

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// Stream is one named stream of a connector: a paginator, the destination
// its records go to, and its run options. Build one with [NewStream] or
// [NewChild]; the record type stays inside, so that streams of different
// types make one connector.
type Stream struct {
	name   string
	parent *Stream
	impl   streamImpl
	err    error // a mistake in the declaration, reported by New
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// Parent returns the parent of a child stream, nil for a top-level stream.
func (s *Stream) Parent() *Stream { return s.parent }

// streamImpl is the typed inside of a Stream.
type streamImpl interface {
	// dest is the destination, for optional interfaces (Tabler).
	dest() any
	// sync runs the stream's part of a connector run.
	sync(ctx context.Context, x *execution, s *Stream) StreamResult
	// runPartition runs one partition of the stream.
	runPartition(ctx context.Context, x *execution, s *Stream, p Partition) (paginate.Result, error)
	// partitions lists the stream's partitions (see Connector.Partitions).
	partitions(ctx context.Context, x *execution, s *Stream, add func(context.Context, []Partition) error) (paginate.Result, error)
}

// NewStream returns a top-level stream named name that syncs every page of
// p into dst with opts, as paginate.Run does. The connector sets
// opts.Stream to name, the checkpoint's key; its Logger and Observe get the
// connector's too (see [Config]). A name is unique within a connector and
// holds no "/", which separates a child stream's name from its partition
// keys.
func NewStream[T any](name string, p paginate.Paginator[T], dst paginate.Sink[T], opts paginate.Options[T]) *Stream {
	s := &Stream{name: name, impl: &top[T]{p: p, dst: dst, opts: opts}}
	if p == nil || dst == nil {
		s.err = fmt.Errorf("connector: stream %q needs a paginator and a destination", name)
	}
	return s
}

// ChildOf says how a child stream's partitions come from its parent's
// records: each parent record is one partition, with a key of its own and a
// paginator of its own.
type ChildOf[P, C any] struct {
	// Parent is the stream whose records are the parents: a top-level
	// stream of records of type P.
	Parent *Stream
	// Key returns the partition key of a parent record, such as its id:
	// non-empty, and the same for every version of the record. The
	// partition's checkpoint is kept under "<child stream>/<key>".
	Key func(P) string
	// Paginator returns the paginator of a parent's partition, such as
	// a strategies.PageNumber whose URL holds the parent's id.
	Paginator func(P) (paginate.Paginator[C], error)
	// Keep returns the part of a parent record that Key and Paginator
	// read, such as func(u User) User { return User{ID: u.ID} }: all a
	// partition carries, to a job queue and a failed partition's state,
	// and all Paginator gets, in process too (see [NewChild]). Nil keeps
	// the whole record.
	Keep func(P) P
	// Every makes each sync visit every parent. By default a sync visits
	// only the parents changed since the last sync that completed: those
	// the parent's paginator returns from the parent's mark, its
	// Options.HighWater or its window's end (every parent when the parent
	// stream has neither).
	Every bool
}

// NewChild returns a child stream named name: for each record of of.Parent,
// a partition whose paginator of.Paginator builds, synced into dst with
// opts. Each partition keeps its own checkpoint (its own resume and its own
// incremental mark) under "<name>/<key>", so dst, or opts.Store, must be a
// paginate.Store.
//
// The child reads its parent's list itself, with the parent's paginator
// and a checkpoint of its own kept under name (opts.Restart applies to it
// too), so that it never depends on
// whether the parent stream ran or how far it got: a sync of the child
// costs the parent's list pages once more. The list is streamed: parents
// are turned into partitions as their pages arrive, and only the
// partitions in progress are held in memory.
//
// A partition carries only what of.Keep keeps of its parent, as JSON
// without its zero fields, wherever it goes: the arguments of its job in
// a queue (Connector.Partitions, riverjob), which keep a copy for as long
// as the queue keeps the job, and the state of a failed partition kept for
// a retry. of.Paginator gets the kept part in every run, in process too,
// so that a Keep that drops a field Paginator needs shows in the first
// test.
func NewChild[P, C any](name string, of ChildOf[P, C], dst paginate.Sink[C], opts paginate.Options[C]) *Stream {
	s := &Stream{name: name, parent: of.Parent}
	c := &child[P, C]{of: of, dst: dst, opts: opts}
	s.impl = c
	switch {
	case of.Parent == nil:
		s.err = fmt.Errorf("connector: child stream %q has no parent", name)
	case of.Key == nil || of.Paginator == nil:
		s.err = fmt.Errorf("connector: child stream %q needs Key and Paginator", name)
	case dst == nil:
		s.err = fmt.Errorf("connector: child stream %q needs a destination", name)
	default:
		t, ok := of.Parent.impl.(*top[P])
		if !ok {
			s.err = fmt.Errorf("connector: child stream %q: parent %q is not a top-level stream of %v records",
				name, of.Parent.name, reflect.TypeFor[P]())
			break
		}
		c.parent = t
		if c.store() == nil {
			s.err = fmt.Errorf("connector: child stream %q: its destination is not a paginate.Store and Options.Store is nil: partitions need checkpoints", name)
		}
	}
	return s
}

// validName reports what is wrong with a stream name.
func validName(name string) error {
	switch {
	case name == "":
		return errors.New("connector: a stream has an empty name")
	case strings.Contains(name, "/"):
		return fmt.Errorf("connector: stream name %q holds a \"/\", which separates a stream from its partition keys", name)
	}
	return nil
}

// top is a top-level stream of records of type T.
type top[T any] struct {
	p    paginate.Paginator[T]
	dst  paginate.Sink[T]
	opts paginate.Options[T]
}

func (t *top[T]) dest() any { return t.dst }

func (t *top[T]) sync(ctx context.Context, x *execution, s *Stream) StreamResult {
	if err := x.runs.Acquire(ctx, 1); err != nil {
		return StreamResult{Stream: s.name, Stop: paginate.StopCancelled, Err: err}
	}
	defer x.runs.Release(1)
	res, err := runOne(ctx, x, s.name, "", t.p, t.dst, t.opts)
	return topResult(s, res, err)
}

func (t *top[T]) runPartition(ctx context.Context, x *execution, s *Stream, p Partition) (paginate.Result, error) {
	if p.Key != "" || p.Parent != nil {
		return paginate.Result{Stream: s.name, Stop: paginate.StopError},
			fmt.Errorf("connector: stream %q is a top-level stream: its one partition has no key and no parent", s.name)
	}
	return runOne(ctx, x, s.name, "", t.p, t.dst, t.opts)
}

// child is a child stream of records of type C, with parents of type P.
type child[P, C any] struct {
	of     ChildOf[P, C]
	parent *top[P]
	dst    paginate.Sink[C]
	opts   paginate.Options[C]
}

func (c *child[P, C]) dest() any { return c.dst }

func (c *child[P, C]) store() paginate.Store {
	if c.opts.Store != nil {
		return c.opts.Store
	}
	st, _ := c.dst.(paginate.Store)
	return st
}

// run runs the partition of one parent record.
func (c *child[P, C]) run(ctx context.Context, x *execution, name, key string, parent P) (paginate.Result, error) {
	parent, err := c.keep(parent, key)
	var p paginate.Paginator[C]
	if err == nil {
		p, err = c.of.Paginator(parent)
	}
	if err == nil && p == nil {
		err = errors.New("ChildOf.Paginator returned a nil paginator")
	}
	if err != nil {
		return paginate.Result{Stream: checkpointName(name, key), Stop: paginate.StopError},
			fmt.Errorf("connector: stream %q, partition %q: %w", name, key, err)
	}
	return runOne(ctx, x, name, key, p, c.dst, c.opts)
}

// readList reads the parent's list for the child stream name into dst,
// its place kept by st. Its errors name the parent stream: the list is
// read with the parent's paginator and settings but saved under the
// child's name, so a checkpoint of other settings, say, is the parent's
// settings changing, not the child's.
func (c *child[P, C]) readList(ctx context.Context, x *execution, name string, dst paginate.Sink[P], st paginate.Store) (paginate.Result, error) {
	res, err := paginate.Run(ctx, limit(x, c.parent.p, name), dst, c.listOptions(x, name, st))
	if err != nil {
		err = fmt.Errorf("the list of parents from stream %q: %w", c.of.Parent.name, err)
	}
	return res, err
}

// listOptions are the options of a read of the parent's list by the child
// stream name, whose position st keeps.
func (c *child[P, C]) listOptions(x *execution, name string, st paginate.Store) paginate.Options[P] {
	po := c.parent.opts
	key := po.Key
	if k, ok := c.parent.dst.(paginate.Keyer[P]); ok && key == nil {
		key = k.Key
	}
	opts := paginate.Options[P]{
		Stream: name,
		Store:  st,
		// The list is read by the parent's paginator, so it shifts as
		// the parent stream does when parents change: it gets the same
		// drift detection, so that a drifted list is read again from
		// its starting mark by the next run and no parent is skipped.
		// The key is the parent stream's, or its sink's, as its own run
		// takes it; paginate.Run turns on what the paginator needs.
		Key: key,
		Checks: paginate.Checks[P]{
			Order:     po.Checks.Order,
			TrackKeys: po.Checks.TrackKeys,
		},
		Retry:    po.Retry,
		Prefetch: po.Prefetch,
		// One page of parents at a time: the list must not run ahead of
		// the partitions, and its position advances page by page.
		Group:       paginate.Group{Pages: 1},
		Concurrency: po.Concurrency,
		Restart:     c.opts.Restart,
		Logger:      x.logger(nil, name, ""),
		Observe:     x.observer(nil, name, "", true),
	}
	if !c.of.Every {
		opts.HighWater = po.HighWater
	}
	return opts
}

// runOne runs one partition: the whole of a top-level stream (key "") or
// the partition key of a child stream.
func runOne[T any](ctx context.Context, x *execution, name, key string, p paginate.Paginator[T], dst paginate.Sink[T], opts paginate.Options[T]) (paginate.Result, error) {
	opts.Stream = checkpointName(name, key)
	opts.Logger = x.logger(opts.Logger, name, key)
	opts.Observe = x.observer(opts.Observe, name, key, false)
	res, err := paginate.Run(ctx, limit(x, p, name), dst, opts)
	// A PostgreSQL sink holds a lock per stream until told: a child
	// stream of many partitions must not hold one per partition.
	return res, unlock(ctx, dst, name, opts.Stream, err)
}

// An Unlocker is a destination that locks each stream it writes, so that
// two processes never write one stream at once, and releases a stream's
// lock when told. Unlocker may be implemented by a stream's destination,
// such as the SQLite, DuckDB and PostgreSQL sinks: [Connector.Run] then releases the lock of
// every stream and partition when its run ends, so that a child stream of
// many partitions does not hold one lock a partition until the sink
// closes. A destination that wraps another forwards Unlock to it.
type Unlocker interface {
	Unlock(ctx context.Context, stream string) error
}

// unlock releases the lock of the checkpoint key stream when dst is an
// Unlocker, and returns err, or else the unlock's error.
func unlock(ctx context.Context, dst any, name, stream string, err error) error {
	if u, ok := dst.(Unlocker); ok {
		if uerr := u.Unlock(context.WithoutCancel(ctx), stream); uerr != nil && err == nil {
			err = fmt.Errorf("connector: stream %q: release the lock of %q: %w", name, stream, uerr)
		}
	}
	return err
}

// checkpointName returns the checkpoint key of a partition.
func checkpointName(stream, key string) string {
	if key == "" {
		return stream
	}
	return stream + "/" + key
}

// limited is a paginator whose fetches each take a slot of the
// connector's in-flight budget.
type limited[T any] struct {
	p      paginate.Paginator[T]
	l      *Limiter
	bypass func() // called when a fetch sent no request through the Limiter
}

func (f *limited[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	s, ctx, err := f.l.hold(ctx)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	defer s.release()
	page, err := f.p.Fetch(ctx, pos)
	if err == nil && f.bypass != nil && !s.wasUsed() {
		f.bypass()
	}
	return page, err
}
