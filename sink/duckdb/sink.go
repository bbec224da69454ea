package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/internal/keypage"
	"github.com/pagekit/pagekit/sink/schema"
)

// Config configures a [Sink]. The zero value upserts every record, keeps
// checkpoints in the table _pagekit_state and makes DECIMAL columns
// DECIMAL(38,9).
type Config[T any] struct {
	// Op picks the operation for each record: upsert, delete by key or
	// soft delete. Nil upserts every record. Records of a page are applied
	// in page order, in the page's transaction.
	Op func(T) schema.Op

	// DeletedColumn names a BOOLEAN column that marks soft-deleted rows;
	// the sink adds it to the table. An upsert sets it to false, so a
	// record that comes back is live again; a schema.SoftDelete sets it to
	// true on an existing row and does nothing when there is none. Empty
	// means no soft deletes: Op must not return schema.SoftDelete.
	DeletedColumn string

	// StateTable names the table of checkpoints, one row per stream.
	// Empty means "_pagekit_state", as in the SQLite sink. Sinks of
	// different tables can share it, as long as their streams have
	// different names.
	StateTable string

	// DecimalScale is the number of digits after the point of DECIMAL
	// columns, which are DECIMAL(38, DecimalScale). Zero means 9, which
	// leaves 29 digits before the point. A value that does not fit
	// exactly is refused with a *schema.RecordError rather than rounded.
	// It applies to the columns the sink creates; an existing column
	// must have it.
	DecimalScale int

	// Wait makes the sink wait for a stream that another Sink of this
	// process holds (see [Sink.Lock]) instead of failing with a
	// *LockedError at once.
	Wait bool
}

// Sink writes records of type T to one DuckDB table, one transaction per
// page (or group of pages), and keeps each stream's checkpoint in the same
// database: it is a [paginate.Sink], a [paginate.Committer] and a
// [paginate.Store], so [paginate.Run] commits each page's rows and
// checkpoint atomically when the sink is passed without a separate
// Options.Store.
//
// A Sink holds one connection of its database for its life; Close returns
// it. Its methods are safe for concurrent use and run one at a time.
type Sink[T any] struct {
	mu      sync.Mutex
	conn    *sql.Conn
	table   schema.Table
	b       batch.Builder[T]
	cols    []schema.Type
	keyIdx  []int
	deleted string
	state   string
	enc     encoder
	vals    []driver.Value // the page's values, encoded
	keys    []driver.Value // one row's key values
	apps    [3]*duckdb.Appender
	save    *sql.Stmt
	load    *sql.Stmt
	locks   streamLocks
	closed  bool
	unique  int // UNIQUE and PRIMARY KEY constraints of the table

	keysTable string          // the stream's keys, beside the state table
	pending   keypage.Pending // keys waiting for their stream's checkpoint

	// afterFlush, when set by a test, runs after each flush of an
	// appender in a commit and may fail it.
	afterFlush func(rows int) error
}

// ErrClosed reports a call to a closed Sink.
var ErrClosed = errors.New("duckdb: sink is closed")

const defaultStateTable = "_pagekit_state"

// New returns a Sink of the table m describes in db, creating the table and
// the state table when they do not exist. An existing table must have the
// schema's columns and primary key (missing nullable columns are added);
// otherwise New fails with schema.ErrTableMismatch. db is typically opened
// with [Open].
func New[T any](ctx context.Context, db *sql.DB, m *schema.Mapping[T], cfg Config[T]) (*Sink[T], error) {
	if db == nil || m == nil {
		return nil, errors.New("duckdb: New needs a database and a mapping")
	}
	t := m.Table()
	if cfg.DeletedColumn != "" && t.ColumnIndex(cfg.DeletedColumn) >= 0 {
		return nil, fmt.Errorf("duckdb: table %q: deleted column %q is also a schema column", t.Name, cfg.DeletedColumn)
	}
	if cfg.StateTable == "" {
		cfg.StateTable = defaultStateTable
	}
	if cfg.DecimalScale == 0 {
		cfg.DecimalScale = 9
	}
	if cfg.DecimalScale < 0 || cfg.DecimalScale > decimalWidth {
		return nil, fmt.Errorf("duckdb: table %q: DecimalScale %d is not between 0 and %d", t.Name, cfg.DecimalScale, decimalWidth)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("duckdb: %w", err)
	}
	s := &Sink[T]{
		conn:    conn,
		table:   t,
		b:       batch.Builder[T]{Mapping: m, Op: cfg.Op, SoftDelete: cfg.DeletedColumn != "", Dedupe: true},
		keyIdx:  t.KeyIndex(),
		deleted: cfg.DeletedColumn,
		state:   cfg.StateTable,
		enc:     newEncoder(cfg.DecimalScale),
	}
	for _, c := range t.Columns {
		s.cols = append(s.cols, c.Type)
	}
	if err := s.setup(ctx, db, cfg); err != nil {
		s.Close()
		return nil, fmt.Errorf("duckdb: table %q: %w", t.Name, err)
	}
	return s, nil
}

func (s *Sink[T]) setup(ctx context.Context, db *sql.DB, cfg Config[T]) error {
	if err := createState(ctx, s.conn, cfg.StateTable); err != nil {
		return err
	}
	s.keysTable = cfg.StateTable + "_keys"
	if err := createKeys(ctx, s.conn, s.keysTable); err != nil {
		return err
	}
	if err := createTable(ctx, s.conn, &s.table, cfg.DeletedColumn, cfg.DecimalScale); err != nil {
		return err
	}
	var err error
	if s.unique, err = uniqueConstraints(ctx, s.conn, s.table.Name); err != nil {
		return err
	}
	st := ident(cfg.StateTable)
	s.save, err = s.conn.PrepareContext(ctx, "INSERT OR REPLACE INTO "+st+" (stream, checkpoint, updated_at) VALUES (?, ?, ?)")
	if err != nil {
		return fmt.Errorf("prepare the checkpoint's save: %w", err)
	}
	if s.load, err = s.conn.PrepareContext(ctx, "SELECT checkpoint FROM "+st+" WHERE stream = ?"); err != nil {
		return fmt.Errorf("prepare the checkpoint's load: %w", err)
	}
	var file string
	if err := s.conn.QueryRowContext(ctx, "SELECT coalesce(file, '') FROM pragma_database_list WHERE name = current_database()").Scan(&file); err != nil {
		return fmt.Errorf("find the database file: %w", err)
	}
	s.locks = streamLocks{db: file, path: file, state: cfg.StateTable, wait: cfg.Wait}
	if file == "" {
		// Each in-memory database is its own: tell them apart by
		// their *sql.DB.
		s.locks.db, s.locks.path = fmt.Sprintf("memory %p", db), ":memory:"
	}
	return nil
}

// appender returns the sink's appender for op, made on first use. Its
// rows are appended to a temporary table and written by one statement
// (an upsert, a delete or a soft delete) on each flush.
func (s *Sink[T]) appender(op schema.Op) (*duckdb.Appender, error) {
	if a := s.apps[op]; a != nil {
		return a, nil
	}
	var q string
	var cols []string
	switch op {
	case schema.Upsert:
		q = upsertSQL(&s.table, s.deleted, s.unique > 1)
		for _, c := range s.table.Columns {
			cols = append(cols, c.Name)
		}
	case schema.Delete:
		q, cols = deleteSQL(&s.table), s.table.PrimaryKey
	case schema.SoftDelete:
		q, cols = softDeleteSQL(&s.table, s.deleted), s.table.PrimaryKey
	}
	var a *duckdb.Appender
	err := s.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("connection %T is not DuckDB's", dc)
		}
		var err error
		a, err = duckdb.NewTableAppender(c, q, "", "", s.table.Name, cols)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%v appender: %w", op, err)
	}
	s.apps[op] = a
	return a, nil
}

// dropAppenders closes the appenders, after an error that may have left
// rows in them; the next page makes new ones.
func (s *Sink[T]) dropAppenders() error {
	var errs []error
	for i, a := range s.apps {
		if a != nil {
			_ = a.Clear()
			errs = append(errs, a.Close())
			s.apps[i] = nil
		}
	}
	return errors.Join(errs...)
}

// Table returns the table the sink writes, as its mapping describes it
// (without the DeletedColumn it may add).
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
