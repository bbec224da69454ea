// Package memory is a sink for tests: it keeps the rows of one table in
// memory, by primary key, with the same validation and operations as the
// database sinks, and returns them sorted by key. It is also the store of
// its checkpoints, so a test can run paginate.Run against it, stop, and run
// again to check a resume.
package memory

import (
	"bytes"
	"cmp"
	"context"
	"math/big"
	"slices"
	"sync"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
)

// Config configures a [Sink]. The zero value upserts every record.
type Config[T any] struct {
	// Op picks the operation for each record, as in the database sinks.
	// Nil upserts every record.
	Op func(T) schema.Op
	// DeletedColumn, when not empty, allows schema.SoftDelete: a soft
	// deleted row moves from Rows to Deleted until an upsert of its key.
	// The name itself is not used; the field mirrors the database sinks'
	// configuration.
	DeletedColumn string
}

// Sink keeps the rows of one table in memory. It is a [paginate.Sink], a
// [paginate.Committer], a [paginate.Store], a [paginate.KeyStore] and a
// [paginate.Keyer] (the table's primary key). It is safe for concurrent
// use.
type Sink[T any] struct {
	mu     sync.Mutex
	table  string
	b      batch.Builder[T]
	cols   []schema.Column
	keyIdx []int
	rows   map[string]*entry[T]
	cps    map[string]paginate.Checkpoint
	keys   paginate.MemoryStore
	buf    []byte
}

type entry[T any] struct {
	rec     T
	key     []schema.Value
	deleted bool
}

// New returns an empty Sink for the table of m.
func New[T any](m *schema.Mapping[T], cfg Config[T]) *Sink[T] {
	t := m.Table()
	return &Sink[T]{
		table:  t.Name,
		b:      batch.Builder[T]{Mapping: m, Op: cfg.Op, SoftDelete: cfg.DeletedColumn != ""},
		cols:   t.Columns,
		keyIdx: t.KeyIndex(),
		rows:   make(map[string]*entry[T]),
		cps:    make(map[string]paginate.Checkpoint),
	}
}

// Table returns the table of the sink's mapping.
func (s *Sink[T]) Table() schema.Table { return s.b.Mapping.Table() }

// Key returns the primary key of item as text (see schema.Mapping.KeyOf),
// which paginate.Run takes for Options.Key when that is nil.
func (s *Sink[T]) Key(item T) string { return s.b.Mapping.KeyOf(item) }

// SaveKeys keeps the key hashes of a page of the stream's sync in progress.
func (s *Sink[T]) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	return s.keys.SaveKeys(ctx, stream, items, keys)
}

// LoadKeys returns the key hashes of the stream's sync saved with items of
// at most upTo, and forgets the others.
func (s *Sink[T]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	return s.keys.LoadKeys(ctx, stream, upTo)
}

// Write applies the records of items, in order. A bad record fails the
// whole page with a *schema.RecordError and changes nothing.
func (s *Sink[T]) Write(_ context.Context, items []T) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apply(items)
}

// Commit applies the records of items and saves cp, as one step.
func (s *Sink[T]) Commit(_ context.Context, items []T, cp paginate.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.apply(items); err != nil {
		return err
	}
	s.cps[cp.Stream] = cp
	return nil
}

// Load returns the checkpoint last saved for stream.
func (s *Sink[T]) Load(_ context.Context, stream string) (paginate.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.cps[stream]
	return cp, ok, nil
}

// Save stores cp.
func (s *Sink[T]) Save(_ context.Context, cp paginate.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cps[cp.Stream] = cp
	return nil
}

func (s *Sink[T]) apply(items []T) error {
	vals, runs, err := s.b.Build(items)
	if err != nil {
		return err
	}
	nc := len(s.cols)
	for _, r := range runs {
		for _, row := range r.Rows {
			rv := vals[row*nc : (row+1)*nc]
			var k string
			k, s.buf = batch.Key(rv, s.keyIdx, s.cols, s.buf)
			switch r.Op {
			case schema.Upsert:
				key := make([]schema.Value, len(s.keyIdx))
				for i, c := range s.keyIdx {
					key[i] = rv[c]
					key[i].Bytes = bytes.Clone(key[i].Bytes)
				}
				s.rows[k] = &entry[T]{rec: items[row], key: key}
			case schema.Delete:
				delete(s.rows, k)
			case schema.SoftDelete:
				if e := s.rows[k]; e != nil {
					e.deleted = true
				}
			}
		}
	}
	return nil
}

// Rows returns the rows that are not soft deleted, sorted by primary key.
func (s *Sink[T]) Rows() []T { return s.list(false) }

// Deleted returns the soft-deleted rows, sorted by primary key.
func (s *Sink[T]) Deleted() []T { return s.list(true) }

func (s *Sink[T]) list(deleted bool) []T {
	s.mu.Lock()
	es := make([]*entry[T], 0, len(s.rows))
	for _, e := range s.rows {
		if e.deleted == deleted {
			es = append(es, e)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry[T]) int {
		for i, c := range s.keyIdx {
			if n := compare(s.cols[c].Type, &a.key[i], &b.key[i]); n != 0 {
				return n
			}
		}
		return 0
	})
	out := make([]T, len(es))
	for i, e := range es {
		out[i] = e.rec
	}
	return out
}

// compare orders two key values of a column of type t.
func compare(t schema.Type, a, b *schema.Value) int {
	switch t {
	case schema.Int, schema.Long:
		return cmp.Compare(a.Int, b.Int)
	case schema.Double:
		return cmp.Compare(a.Float, b.Float)
	case schema.Boolean:
		return cmp.Compare(b2i(a.Bool), b2i(b.Bool))
	case schema.NaiveDate, schema.UTCDatetime:
		return a.Time.Compare(b.Time)
	case schema.JSON, schema.Binary:
		return bytes.Compare(a.Bytes, b.Bytes)
	case schema.Decimal:
		x, okx := new(big.Rat).SetString(a.Str)
		y, oky := new(big.Rat).SetString(b.Str)
		if okx && oky {
			if n := x.Cmp(y); n != 0 {
				return n
			}
		}
	}
	return cmp.Compare(a.Str, b.Str)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

var (
	_ paginate.Committer[int] = (*Sink[int])(nil)
	_ paginate.KeyStore       = (*Sink[int])(nil)
	_ paginate.Keyer[int]     = (*Sink[int])(nil)
)
