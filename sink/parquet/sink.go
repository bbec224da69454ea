package parquet

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/internal/keypage"
	"github.com/pagekit/pagekit/sink/schema"
	pq "github.com/parquet-go/parquet-go"
)

// Config configures a [Sink]. The zero value upserts every record, makes
// DECIMAL columns DECIMAL(38,9) and row groups of up to 122,880 rows.
type Config[T any] struct {
	// Op picks the operation for each record: upsert or delete by key.
	// Nil upserts every record. schema.SoftDelete is refused: a delete
	// is kept as a row of its own (see the package documentation), so a
	// reader that wants deleted rows still finds their last version.
	Op func(T) schema.Op

	// DecimalScale is the number of digits after the point of DECIMAL
	// columns, DECIMAL(38, DecimalScale). Zero means 9. A value that does
	// not fit exactly is refused with a *schema.RecordError rather than
	// rounded. An existing table keeps the scale it was made with.
	DecimalScale int

	// RowGroupRows is the most rows of one row group. Zero means 122,880,
	// DuckDB's own row group size: readers scan row groups in parallel
	// and skip them by their statistics, which a group commit's file (up
	// to Group.Items rows, 10,000 by default) and a compacted file both
	// benefit from.
	RowGroupRows int

	// Wait makes the sink wait for a table that another writer holds
	// instead of failing with a *LockedError at once.
	Wait bool
}

// Sink writes records of type T to one table kept as Parquet files in a
// [Storage], one file per commit, and keeps the checkpoints of the streams
// it writes in the table's manifest: it is a [paginate.Sink], a
// [paginate.Committer] and a [paginate.Store], so [paginate.Run] commits
// each page (or group of pages) and its checkpoint atomically when the
// sink is passed without a separate Options.Store.
//
// Its methods are safe for concurrent use and run one at a time.
type Sink[T any] struct {
	mu      sync.Mutex
	st      Storage
	name    string // the storage, for messages
	table   schema.Table
	b       batch.Builder[T]
	cols    []schema.Type
	keyIdx  []int
	scale   int
	groups  int64
	wait    bool
	fileSch *pq.Schema
	lay     layout
	m       Manifest // as committed
	unlock  func() error
	closed  bool

	pending keypage.Pending // keys waiting for their stream's checkpoint

	last  map[string]int // key -> last row of the commit
	ops   []schema.Op    // by row of the commit: its operation plus one, or 0
	cells []pq.Value     // the values of the commit's rows
	rows  []pq.Row
	buf   []byte

	// beforeManifest, when set by a test, runs after a commit's file is
	// written and before its manifest is, and may fail the commit.
	beforeManifest func() error
}

// ErrClosed reports a call to a closed Sink.
var ErrClosed = errors.New("parquet: sink is closed")

// New returns a Sink of the table m describes, kept in st (see [Dir]). An
// existing table (one whose manifest is in st) must have the schema's
// primary key, the types of its columns and the same DecimalScale;
// otherwise New fails with schema.ErrTableMismatch. Columns the table
// lacks are added: files written before have none, and read as NULL.
func New[T any](ctx context.Context, st Storage, m *schema.Mapping[T], cfg Config[T]) (*Sink[T], error) {
	if st == nil || m == nil {
		return nil, errors.New("parquet: New needs a storage and a mapping")
	}
	t := m.Table()
	if cfg.DecimalScale == 0 {
		cfg.DecimalScale = 9
	}
	if cfg.DecimalScale < 0 || cfg.DecimalScale > decimalPrecision {
		return nil, fmt.Errorf("parquet: table %q: DecimalScale %d is not between 0 and %d", t.Name, cfg.DecimalScale, decimalPrecision)
	}
	if cfg.RowGroupRows <= 0 {
		cfg.RowGroupRows = 122_880
	}
	for _, c := range t.Columns {
		if strings.HasPrefix(c.Name, "_pagekit_") {
			return nil, fmt.Errorf("parquet: table %q: column %q: names starting with _pagekit_ are the sink's", t.Name, c.Name)
		}
	}
	s := &Sink[T]{
		st:     st,
		name:   fmt.Sprint(st),
		table:  t,
		b:      batch.Builder[T]{Mapping: m, Op: cfg.Op, SoftDelete: true},
		keyIdx: t.KeyIndex(),
		scale:  cfg.DecimalScale,
		groups: int64(cfg.RowGroupRows),
		wait:   cfg.Wait,
	}
	for _, c := range t.Columns {
		s.cols = append(s.cols, c.Type)
	}
	s.fileSch = fileSchema(&t, s.scale)
	s.lay = newLayout(&t, s.fileSch, s.scale)
	man, _, err := ReadManifest(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := s.adopt(man); err != nil {
		return nil, err
	}
	return s, nil
}

// adopt takes man, the table's manifest as stored (the zero Manifest for a
// new table), as the sink's, checking it against the sink's table and
// adding the columns it lacks.
func (s *Sink[T]) adopt(man Manifest) error {
	if man.Version == 0 {
		man = Manifest{Version: 1, Table: schema.Table{Name: s.table.Name, PrimaryKey: s.table.PrimaryKey}, DecimalScale: s.scale}
	}
	mismatch := func(format string, args ...any) error {
		return fmt.Errorf("parquet: table %q: %w: %s", s.table.Name, schema.ErrTableMismatch, fmt.Sprintf(format, args...))
	}
	if !slices.Equal(man.Table.PrimaryKey, s.table.PrimaryKey) {
		return mismatch("primary key is %q, schema says %q", man.Table.PrimaryKey, s.table.PrimaryKey)
	}
	if man.DecimalScale != s.scale {
		return mismatch("DECIMAL columns have scale %d, Config.DecimalScale says %d", man.DecimalScale, s.scale)
	}
	for _, c := range s.table.Columns {
		i := man.Table.ColumnIndex(c.Name)
		if i < 0 {
			man.Table.Columns = append(man.Table.Columns, c)
			continue
		}
		if man.Table.Columns[i].Type != c.Type {
			return mismatch("column %q is %v, schema says %v", c.Name, man.Table.Columns[i].Type, c.Type)
		}
	}
	s.m = man
	return nil
}

// lock takes the table's writer lock, once: it then reads the manifest
// again, as its writer now, and removes the files of commits that did not
// finish (files the manifest does not list).
func (s *Sink[T]) lock(ctx context.Context) error {
	if s.unlock != nil {
		return nil
	}
	wait := 10 * time.Millisecond
	for {
		unlock, err := s.st.Lock(ctx)
		if err == nil {
			s.unlock = unlock
			break
		}
		if !s.wait || !errors.Is(err, ErrLocked) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("parquet: wait for the lock of table %s: %w", s.name, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
	man, _, err := ReadManifest(ctx, s.st)
	if err == nil {
		err = s.adopt(man)
	}
	if err == nil {
		err = s.removeUncommitted(ctx)
	}
	if err != nil {
		s.unlock()
		s.unlock = nil
		return err
	}
	return nil
}

// removeUncommitted removes the files of unfinished commits: temporary
// files, and Parquet files the manifest does not list.
func (s *Sink[T]) removeUncommitted(ctx context.Context) error {
	names, err := s.st.List(ctx)
	if err != nil {
		return fmt.Errorf("parquet: list the table's files: %w", err)
	}
	listed := make(map[string]bool, len(s.m.Files))
	for _, f := range s.m.Files {
		listed[f.Name] = true
	}
	for _, n := range names {
		if isTemp(n) || strings.HasSuffix(n, ".parquet") && !listed[n] {
			if err := s.st.Remove(ctx, n); err != nil {
				return fmt.Errorf("parquet: remove the uncommitted file %s: %w", n, err)
			}
		}
	}
	return nil
}

// Table returns the table the sink writes, as its mapping describes it.
func (s *Sink[T]) Table() schema.Table { return s.b.Mapping.Table() }

// Identity names the sink's table, which checkpoints carry (see
// [paginate.Identity]) and which names the stream when
// paginate.Options.Stream is empty.
func (s *Sink[T]) Identity() paginate.Identity {
	return paginate.Identity{"table": s.table.Name}
}

var (
	_ paginate.Committer[int] = (*Sink[int])(nil)
	_ paginate.KeyStore       = (*Sink[int])(nil)
	_ paginate.Keyer[int]     = (*Sink[int])(nil)
	_ paginate.Identifier     = (*Sink[int])(nil)
)
