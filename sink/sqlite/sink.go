package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/internal/keypage"
	"github.com/pagekit/pagekit/sink/schema"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Config configures a [Sink]. The zero value upserts every record, keeps
// checkpoints in the table _pagekit_state and commits with
// synchronous=NORMAL.
type Config[T any] struct {
	// Op picks the operation for each record: upsert, delete by key or
	// soft delete. Nil upserts every record. Records of a page are applied
	// in page order, in the page's transaction.
	Op func(T) schema.Op

	// DeletedColumn names an INTEGER column (0 or 1) that marks soft-deleted
	// rows; the sink adds it to the table. An upsert sets it to 0, so a
	// record that comes back is live again; a schema.SoftDelete sets it
	// to 1 on an existing row and does nothing when there is none. Empty
	// means no soft deletes: Op must not return schema.SoftDelete.
	DeletedColumn string

	// StateTable names the table of checkpoints, one row per stream.
	// Empty means "_pagekit_state". Sinks of different tables can share
	// it, as long as their streams have different names.
	StateTable string

	// Durable makes each commit survive a power loss by syncing the
	// write-ahead log on every commit (synchronous=FULL). Without it
	// (synchronous=NORMAL) a commit survives a crash or kill of the
	// process but the last commits may be lost on power loss; since the
	// data and its checkpoint are in one transaction they are lost
	// together, and the next run fetches those pages again.
	Durable bool

	// BatchRows is the most rows one INSERT statement carries. Zero means
	// 100. It is lowered to fit SQLite's limit on bound parameters.
	BatchRows int

	// Wait makes the sink wait for a stream that another writer holds
	// (see [Sink.Lock]) instead of failing with a *LockedError at once.
	Wait bool

	// CacheSize is the page cache of the sink's connection, in bytes,
	// taken as the table is written. Zero means 8 MiB: the key index of
	// about 150,000 rows keyed by random values (UUIDs), or the upper levels
	// of a larger one, which is what upserts in random key order read most;
	// keys that arrive in order need far less. A larger cache speeds up
	// random keys over millions of rows (about 50 bytes a row holds their
	// whole index) at the price of memory that stays taken until Close.
	CacheSize int
}

// Sink writes records of type T to one SQLite table, one transaction per
// page, and keeps each stream's checkpoint in the same database: it is a
// [paginate.Sink], a [paginate.Committer] and a [paginate.Store], so
// [paginate.Run] commits each page's rows and checkpoint atomically when
// the sink is passed without a separate Options.Store. It is also a
// [paginate.KeyStore], which keeps the keys of a sync in progress in the
// table <StateTable>_keys, written in the transactions of the checkpoints,
// and a [paginate.Keyer], which gives Run the table's primary key.
//
// A Sink holds one connection of its database for its life; Close returns
// it. Its methods are safe for concurrent use and run one at a time.
type Sink[T any] struct {
	mu      sync.Mutex
	conn    *sql.Conn
	table   schema.Table
	b       batch.Builder[T]
	cols    []schema.Type // column types, in row order
	keyIdx  []int
	deleted string // soft-delete column, or ""
	perRow  int    // bound parameters per upserted row
	max     int    // rows per INSERT statement

	upserts  map[int]*sql.Stmt // by row count
	careful  map[int]*sql.Stmt // by row count, to find a refused row
	finding  bool              // looking for a refused row: careful statements
	del      *sql.Stmt
	soft     *sql.Stmt
	save     *sql.Stmt
	load     *sql.Stmt
	begin    *sql.Stmt
	commitSt *sql.Stmt
	rollback *sql.Stmt
	saveKeys *sql.Stmt
	loadKeys *sql.Stmt
	dropKeys *sql.Stmt
	// pending are the keys of pages, by stream, waiting for the stream's
	// next checkpoint (see SaveKeys).
	pending keypage.Pending
	args    []any
	closed  bool
	locks   streamLocks

	// afterExec, when set by a test, runs after each data statement of a
	// commit and may fail it.
	afterExec func(rows int) error
}

// ErrClosed reports a call to a closed Sink.
var ErrClosed = errors.New("sqlite: sink is closed")

const defaultStateTable = "_pagekit_state"

// New returns a Sink of the table m describes in db, creating the table and
// the state table when they do not exist. An existing table must have the
// schema's columns and primary key (missing nullable columns are added);
// otherwise New fails with schema.ErrTableMismatch. db is typically
// opened with [Open]; New sets the pragmas it needs on its own connection.
func New[T any](ctx context.Context, db *sql.DB, m *schema.Mapping[T], cfg Config[T]) (*Sink[T], error) {
	if db == nil || m == nil {
		return nil, errors.New("sqlite: New needs a database and a mapping")
	}
	t := m.Table()
	if cfg.DeletedColumn != "" && t.ColumnIndex(cfg.DeletedColumn) >= 0 {
		return nil, fmt.Errorf("sqlite: table %q: deleted column %q is also a schema column", t.Name, cfg.DeletedColumn)
	}
	if cfg.StateTable == "" {
		cfg.StateTable = defaultStateTable
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = 100
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s := &Sink[T]{
		conn:    conn,
		table:   t,
		b:       batch.Builder[T]{Mapping: m, Op: cfg.Op, SoftDelete: cfg.DeletedColumn != ""},
		keyIdx:  t.KeyIndex(),
		upserts: make(map[int]*sql.Stmt),
		careful: make(map[int]*sql.Stmt),
	}
	for _, c := range t.Columns {
		s.cols = append(s.cols, c.Type)
	}
	s.perRow = len(t.Columns)
	if err := s.setup(ctx, cfg); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: table %q: %w", t.Name, err)
	}
	return s, nil
}

func (s *Sink[T]) setup(ctx context.Context, cfg Config[T]) error {
	syncMode := "NORMAL"
	if cfg.Durable {
		syncMode = "FULL"
	}
	pragmas := []string{
		"PRAGMA busy_timeout = 10000",
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = " + syncMode,
		// Checkpointing the WAL every 10,000 pages (40 MB) rather than
		// 1,000 writes a page updated by many commits once, which
		// matters when keys arrive in random order, like UUIDs.
		"PRAGMA wal_autocheckpoint = 10000",
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 8 << 20
	}
	// A negative cache_size is in KiB.
	pragmas = append(pragmas, fmt.Sprintf("PRAGMA cache_size = %d", -max(1, cfg.CacheSize>>10)))
	for _, q := range pragmas {
		if _, err := s.conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := createState(ctx, s.conn, cfg.StateTable); err != nil {
		return err
	}
	if err := createKeys(ctx, s.conn, keysTable(cfg.StateTable)); err != nil {
		return err
	}
	if err := createTable(ctx, s.conn, &s.table, cfg.DeletedColumn); err != nil {
		return err
	}
	limit, err := sqlite.Limit(s.conn, sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, -1)
	if err != nil {
		return err
	}
	s.max = max(1, min(cfg.BatchRows, limit/s.perRow))

	tbl := ident(s.table.Name)
	var where []string
	for _, i := range s.keyIdx {
		where = append(where, ident(s.table.Columns[i].Name)+" = ?")
	}
	st := ident(cfg.StateTable)
	kt := ident(keysTable(cfg.StateTable))
	stmts := []struct {
		dst **sql.Stmt
		q   string
	}{
		{&s.del, "DELETE FROM " + tbl + " WHERE " + strings.Join(where, " AND ")},
		{&s.save, "INSERT INTO " + st + " (stream, checkpoint, updated_at) VALUES (?, ?, ?) " +
			"ON CONFLICT (stream) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = excluded.updated_at"},
		{&s.load, "SELECT checkpoint FROM " + st + " WHERE stream = ?"},
		{&s.saveKeys, "INSERT OR REPLACE INTO " + kt + " (stream, items, keys) VALUES (?, ?, ?)"},
		{&s.loadKeys, "SELECT keys FROM " + kt + " WHERE stream = ?"},
		{&s.dropKeys, "DELETE FROM " + kt + " WHERE stream = ? AND items > ?"},
		// IMMEDIATE takes the write lock at once, so that a busy database
		// makes BEGIN wait (busy_timeout) instead of failing a later write.
		{&s.begin, "BEGIN IMMEDIATE"},
		{&s.commitSt, "COMMIT"},
		{&s.rollback, "ROLLBACK"},
	}
	if cfg.DeletedColumn != "" {
		stmts = append(stmts, struct {
			dst **sql.Stmt
			q   string
		}{&s.soft, "UPDATE " + tbl + " SET " + ident(cfg.DeletedColumn) + " = 1 WHERE " + strings.Join(where, " AND ")})
	}
	for _, x := range stmts {
		var err error
		if *x.dst, err = s.conn.PrepareContext(ctx, x.q); err != nil {
			return fmt.Errorf("prepare %s: %w", x.q, err)
		}
	}
	s.deleted = cfg.DeletedColumn
	return s.setupLocks(ctx, cfg)
}

// setupLocks finds the database file, beside which the stream locks live.
func (s *Sink[T]) setupLocks(ctx context.Context, cfg Config[T]) error {
	rows, err := s.conn.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return err
	}
	defer rows.Close()
	var file string
	for rows.Next() {
		var seq int
		var name, path string
		if err := rows.Scan(&seq, &name, &path); err != nil {
			return err
		}
		if name == "main" {
			file = path
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.locks = streamLocks{db: file, state: cfg.StateTable, wait: cfg.Wait}
	if file != "" {
		s.locks.path = lockPath(file)
	}
	return nil
}

// Table returns the table the sink writes, as its mapping describes it
// (without the DeletedColumn it may add).
func (s *Sink[T]) Table() schema.Table { return s.b.Mapping.Table() }

// Key returns the primary key of item as text (see schema.Mapping.KeyOf),
// which paginate.Run takes for Options.Key when that is nil.
func (s *Sink[T]) Key(item T) string { return s.b.Mapping.KeyOf(item) }

var (
	_ paginate.Committer[int] = (*Sink[int])(nil)
	_ paginate.KeyStore       = (*Sink[int])(nil)
	_ paginate.Keyer[int]     = (*Sink[int])(nil)
)
