package dynamic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// Record is the record type of a Table.
type Record = schema.Record

// An Opener opens the sinks of tables in one destination: a database, a
// directory of files, a platform's protocol. Open returns the sink of the
// table m describes, creating it or adding the columns it lacks, as the
// sinks of package sink do.
type Opener interface {
	Open(ctx context.Context, m *schema.Mapping[Record]) (Sink, error)
}

// Sink is the sink of one table that an Opener opens: it commits a page's records with its
// checkpoint, and keeps the checkpoints, as the sinks of package sink
// do. It may also be a paginate.KeyStore, a [Locker] and an [Unlocker],
// which Table passes on.
type Sink interface {
	paginate.Sink[Record]
	paginate.Committer[Record]
	paginate.Store
	Close() error
}

// A Locker is a sink that locks the streams it writes, so that two
// processes never write one stream at once, as the database and Parquet
// sinks do. Locker may be implemented by a [Sink]: when the table grows, [Table]
// takes again on the sink it opens the locks that the one before held.
type Locker interface {
	Lock(ctx context.Context, stream string) error
}

// An Unlocker is a sink that releases a stream's lock when told, as the
// SQLite, DuckDB and PostgreSQL sinks do. Unlocker may be implemented by a
// [Sink]: [Table.Unlock] passes the call on.
type Unlocker interface {
	Unlock(ctx context.Context, stream string) error
}

// Table is the sink of a stream's table, whose columns grow with the
// records (see schema.Dynamic): before a page is committed, a field that
// the table lacks adds a column, typed from the page's values, and the
// destination's sink is opened again with the grown table, which adds the
// column; a value that no longer fits its column fails the commit with a
// *schema.RecordError that names the record and the field, before
// anything of the page is written. That holds for a table an earlier
// process created too, whose columns' types this Table does not know:
// when the destination refuses the types a page's values give together,
// the page's fields are added record by record, each typed by its first
// value as the table's were. It is a paginate.Committer and a
// paginate.Store, a paginate.Keyer (the table's primary key), a
// paginate.Identifier (the destination's), and passes the key store and
// the stream locks of the destination's sink on. It is safe for
// concurrent use: the partitions of a child stream share it.
type Table struct {
	dest Opener
	dyn  *schema.Dynamic

	mu     sync.RWMutex // write-held to open the sink again
	s      Sink
	m      *schema.Mapping[Record] // the mapping s was opened with
	closed bool

	kmu     sync.Mutex
	pending map[string][]pendingKeys // keys to pass on before the stream's next checkpoint
	locked  map[string]bool          // streams whose lock the sink may hold
}

type pendingKeys struct {
	items int64
	keys  []uint64
}

// New returns the table t (its name, primary key and declared
// columns, which may be none) in dest. Its sink is opened when the table
// is first used.
func New(dest Opener, t schema.Table) (*Table, error) {
	dyn, err := schema.NewDynamic(t)
	if err != nil {
		return nil, err
	}
	return &Table{dest: dest, dyn: dyn, pending: make(map[string][]pendingKeys), locked: make(map[string]bool)}, nil
}

// Schema returns the table as it is now.
func (t *Table) Schema() schema.Table { return t.dyn.Table() }

// Table returns the table as it is now, for connector.Tabler.
func (t *Table) Table() schema.Table { return t.dyn.Table() }

// Key returns a record's primary key as text (paginate.Keyer).
func (t *Table) Key(r Record) string { return t.dyn.Mapping().KeyOf(r) }

// Identity is the destination sink's (paginate.Identifier).
func (t *Table) Identity() paginate.Identity {
	s, done, err := t.current(context.Background(), nil)
	if err == nil {
		defer done()
		if id, ok := s.(paginate.Identifier); ok {
			return id.Identity()
		}
	}
	return paginate.Identity{"table": t.dyn.Table().Name}
}

// current returns the sink, with the read lock held, once the table has
// a column for every field of items; the caller must call done.
func (t *Table) current(ctx context.Context, items []Record) (s Sink, done func(), err error) {
	stepped := false
	for {
		if _, err := t.dyn.Grow(items); err != nil {
			return nil, nil, err
		}
		t.mu.RLock()
		if t.closed {
			t.mu.RUnlock()
			return nil, nil, errors.New("dynamic: the table is closed")
		}
		if t.m == t.dyn.Mapping() {
			return t.s, t.mu.RUnlock, nil
		}
		opened := t.m != nil
		t.mu.RUnlock()
		err := t.reopen(ctx)
		if err != nil && opened && !stepped && len(items) > 1 && errors.Is(err, schema.ErrTableMismatch) {
			stepped = true
			err = t.growEach(ctx, items)
		}
		if err != nil {
			return nil, nil, err
		}
	}
}

// growEach grows the table by one record of items at a time, in order,
// opening the sink again for each record that brings a field, after the
// destination refused the table grown by all of items at once. That
// happens to a table that exists from an earlier process: its columns
// were typed by the first values of their fields, while the values of a
// page taken together may give a wider type (an integer and a fraction
// give DOUBLE) that the existing column refuses. Grown record by record,
// each new column takes the type of its first value, as the existing one
// did, and a later value that does not fit fails the commit with a
// *schema.RecordError that names its record.
func (t *Table) growEach(ctx context.Context, items []Record) error {
	t.mu.Lock()
	t.dyn.Revert(t.m)
	t.mu.Unlock()
	for i := range items {
		added, err := t.dyn.Grow(items[i : i+1])
		if err != nil {
			return err
		}
		if len(added) > 0 {
			if err := t.reopen(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// reopen opens the destination's sink again with the grown table, and
// takes again the stream locks the old one held.
func (t *Table) reopen(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.dyn.Mapping()
	if t.m == m || t.closed {
		return nil
	}
	if t.s != nil {
		if err := t.s.Close(); err != nil {
			return fmt.Errorf("dynamic: table %q: close the sink to add columns: %w", m.Table().Name, err)
		}
		t.s = nil
	}
	s, err := t.dest.Open(ctx, m)
	if err != nil {
		if t.m == nil {
			return err // the first open
		}
		if errors.Is(err, schema.ErrTableMismatch) {
			err = fmt.Errorf("%w; the columns of an existing table keep their types: declare the column's type in the spec (table.columns), or sync into a new table", err)
		}
		return fmt.Errorf("dynamic: table %q: add the columns of new fields (%s): %w", m.Table().Name, newColumns(t.m, m), err)
	}
	reopened := t.m != nil
	t.s, t.m = s, m
	if !reopened {
		return nil
	}
	t.kmu.Lock()
	var streams []string
	for st := range t.locked {
		streams = append(streams, st)
	}
	t.kmu.Unlock()
	if l, ok := s.(Locker); ok {
		for _, st := range streams {
			if err := l.Lock(ctx, st); err != nil {
				return err
			}
		}
	}
	return nil
}

// newColumns names the columns of b that a lacks.
func newColumns(a, b *schema.Mapping[Record]) string {
	at, bt := a.Table(), b.Table()
	var out []string
	for _, c := range bt.Columns {
		if at.ColumnIndex(c.Name) < 0 {
			out = append(out, c.Name+" "+c.Type.String())
		}
	}
	return strings.Join(out, ", ")
}

// Write refuses records without their checkpoint: a Table commits a page
// with its checkpoint, and the stream's Options.Store must be nil.
func (t *Table) Write(context.Context, []Record) error {
	return errors.New("dynamic: records written without their checkpoint: leave Options.Store nil")
}

// Commit commits items and cp in one step, adding the columns of new
// fields first.
func (t *Table) Commit(ctx context.Context, items []Record, cp paginate.Checkpoint) error {
	s, done, err := t.current(ctx, items)
	if err != nil {
		return err
	}
	defer done()
	if err := t.passKeys(ctx, s, cp.Stream); err != nil {
		return err
	}
	t.mark(cp.Stream)
	return s.Commit(ctx, items, cp)
}

// Save saves a checkpoint without records.
func (t *Table) Save(ctx context.Context, cp paginate.Checkpoint) error {
	s, done, err := t.current(ctx, nil)
	if err != nil {
		return err
	}
	defer done()
	if err := t.passKeys(ctx, s, cp.Stream); err != nil {
		return err
	}
	t.mark(cp.Stream)
	return s.Save(ctx, cp)
}

// Load loads the checkpoint of stream.
func (t *Table) Load(ctx context.Context, stream string) (paginate.Checkpoint, bool, error) {
	s, done, err := t.current(ctx, nil)
	if err != nil {
		return paginate.Checkpoint{}, false, err
	}
	defer done()
	t.mark(stream)
	return s.Load(ctx, stream)
}

// mark notes that the sink may hold the lock of stream.
func (t *Table) mark(stream string) {
	t.kmu.Lock()
	t.locked[stream] = true
	t.kmu.Unlock()
}

// Unlock releases the lock of stream, when the sink takes locks.
func (t *Table) Unlock(ctx context.Context, stream string) error {
	t.kmu.Lock()
	delete(t.locked, stream)
	t.kmu.Unlock()
	t.mu.RLock()
	defer t.mu.RUnlock()
	if u, ok := t.s.(Unlocker); ok {
		return u.Unlock(ctx, stream)
	}
	return nil
}

// Close closes the destination's sink.
func (t *Table) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.s == nil {
		return nil
	}
	return t.s.Close()
}

// keyStore is the part of a Table that passes a key store on.
type keyStore interface {
	SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error
	LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error)
}

// passKeys passes the keys saved for stream on to s, before the stream's
// checkpoint: they wait in the Table, so that a sink opened again in
// between does not lose them.
func (t *Table) passKeys(ctx context.Context, s Sink, stream string) error {
	t.kmu.Lock()
	p := t.pending[stream]
	delete(t.pending, stream)
	t.kmu.Unlock()
	ks, ok := s.(keyStore)
	if !ok {
		return nil
	}
	for _, k := range p {
		if err := ks.SaveKeys(ctx, stream, k.items, k.keys); err != nil {
			return err
		}
	}
	return nil
}

// KeyTable is a Table whose destination keeps keys: a paginate.KeyStore.
type KeyTable struct{ *Table }

// SaveKeys keeps the keys of a page until the stream's next checkpoint.
func (t KeyTable) SaveKeys(_ context.Context, stream string, items int64, keys []uint64) error {
	t.kmu.Lock()
	defer t.kmu.Unlock()
	t.pending[stream] = append(t.pending[stream], pendingKeys{items: items, keys: append([]uint64(nil), keys...)})
	return nil
}

// LoadKeys returns the keys the destination keeps for stream.
func (t KeyTable) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	t.kmu.Lock()
	delete(t.pending, stream)
	t.kmu.Unlock()
	s, done, err := t.current(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer done()
	t.mark(stream)
	return s.(keyStore).LoadKeys(ctx, stream, upTo)
}

// Sink opens the table and returns it as the sink a run takes: a
// KeyTable when the destination keeps keys.
func (t *Table) Sink(ctx context.Context) (Sink, error) {
	s, done, err := t.current(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer done()
	if _, ok := s.(keyStore); ok {
		return KeyTable{t}, nil
	}
	return t, nil
}
