package paginate

import (
	"context"
	"slices"
	"sync"
)

// A Sink accepts the items of one page at a time, or of several consecutive
// pages when [Run] commits the pages waiting for it as a group (see
// [Group]). Write is called in page order, from one goroutine at a time; the
// runner saves the checkpoint of the last page written only after Write
// returns nil. Write must not keep items after it returns, because the
// runner may reuse the slice.
type Sink[T any] interface {
	Write(ctx context.Context, items []T) error
}

// SinkFunc adapts a function to a [Sink].
type SinkFunc[T any] func(ctx context.Context, items []T) error

// Write calls f(ctx, items).
func (f SinkFunc[T]) Write(ctx context.Context, items []T) error { return f(ctx, items) }

// A Committer is a [Sink] that stores a page's items and its checkpoint in
// one atomic step, such as one database transaction: after a crash either
// both are there or neither is. [Run] calls Commit instead of Write and
// Store.Save when the sink implements both Committer and [Store] and
// Options.Store is nil; items may be those of several consecutive pages
// and cp the last one's (see [Group]).
type Committer[T any] interface {
	Commit(ctx context.Context, items []T, cp Checkpoint) error
}

// MemorySink is a [Sink] and a [Committer] that keeps every item it receives
// in memory, in order, together with the last checkpoint; it is also the
// [Store] for that checkpoint, and a [KeyStore]. It is meant for tests and small syncs. The zero
// value is ready to use, and it is safe for concurrent use.
type MemorySink[T any] struct {
	mu    sync.Mutex
	items []T
	store MemoryStore
}

// Write appends items.
func (s *MemorySink[T]) Write(_ context.Context, items []T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, items...)
	return nil
}

// Commit appends items and saves cp, as one step.
func (s *MemorySink[T]) Commit(ctx context.Context, items []T, cp Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items = append(s.items, items...)
	return s.store.Save(ctx, cp)
}

// Load returns the checkpoint last committed for stream.
func (s *MemorySink[T]) Load(ctx context.Context, stream string) (Checkpoint, bool, error) {
	return s.store.Load(ctx, stream)
}

// Save stores cp.
func (s *MemorySink[T]) Save(ctx context.Context, cp Checkpoint) error {
	return s.store.Save(ctx, cp)
}

// Items returns a copy of every item received so far.
func (s *MemorySink[T]) Items() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.items)
}
