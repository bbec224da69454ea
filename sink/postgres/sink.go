package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/internal/keypage"
	"github.com/pagekit/pagekit/sink/schema"
)

// Config configures a [Sink]. The zero value upserts every record, keeps
// the table and the checkpoints in the connection's default schema (the
// first of its search_path), and fails at once when another worker holds a
// stream's lock.
type Config[T any] struct {
	// Op picks the operation for each record: upsert, delete by key or
	// soft delete. Nil upserts every record. Records of a page are applied
	// in page order, in the page's transaction.
	Op func(T) schema.Op

	// DeletedColumn names a boolean column that marks soft-deleted rows;
	// the sink adds it to the table (NOT NULL DEFAULT false). An upsert
	// sets it to false, so a record that comes back is live again; a
	// schema.SoftDelete sets it to true on an existing row and does
	// nothing when there is none. Empty means no soft deletes: Op must not
	// return schema.SoftDelete.
	DeletedColumn string

	// Schema is the PostgreSQL schema of the table and of the state
	// table, created if it does not exist. Empty means the connection's
	// default schema, usually public.
	Schema string

	// StateTable names the table of checkpoints, one row per stream.
	// Empty means "_pagekit_state". Stream locks are per state table and
	// stream name.
	StateTable string

	// Wait makes a sink wait for a stream's lock that another worker
	// holds, until the context is done, instead of failing with
	// ErrLocked.
	Wait bool
}

// Sink writes records of type T to one PostgreSQL table, one transaction
// per page, and keeps each stream's checkpoint in a state table of the same
// database: it is a [paginate.Sink], a [paginate.Committer] and a
// [paginate.Store]. It is also a [paginate.KeyStore], which keeps the keys
// of a sync in progress in the table <StateTable>_keys, written in the
// transactions of the checkpoints, and a [paginate.Keyer], which gives
// paginate.Run the table's primary key.
//
// A Sink holds one connection of its pool for its life, and takes a
// session-level advisory lock on each stream it loads or commits, so that
// two workers never run one stream at once (see [Sink.Lock]). All of a
// sink's statements run on that connection, so the lock guards the very
// session that commits: if the connection is lost, PostgreSQL releases the
// lock and rolls back the open transaction, and the sink fails every later
// call with ErrConnLost. A context that ends while a page is being written
// does not abandon the page: once its first statement is sent, the page's
// transaction runs to its end (within a minute), since pgx closes a
// connection whose statement is abandoned. Close releases the locks and
// the connection.
//
// Its methods are safe for concurrent use and run one at a time.
type Sink[T any] struct {
	mu        sync.Mutex
	conn      *pgx.Conn
	pc        *pgxpool.Conn
	pool      *pgxpool.Pool // for settling a commit whose connection was lost
	table     schema.Table
	b         batch.Builder[T]
	cols      []schema.Type
	keyIdx    []int
	deleted   string
	wait      bool
	stateName string // qualified state table, for lock keys
	locks     map[string]bool
	err       error // set when the connection is lost or the sink closed

	q        queries
	buf      []byte   // COPY data, array parameters
	params   [][]byte // parameters of a pipelined page
	formats  []int16  // all binary
	allIdx   []int    // 0, 1, ... len(cols)-1
	copyRows int      // upsert runs this long go through COPY
	// pending are the keys of pages, by stream, waiting for the stream's
	// next checkpoint (see SaveKeys).
	pending keypage.Pending

	// afterExec, when set by a test, runs after each data statement of a
	// commit with the rows it wrote, and may fail the commit.
	afterExec func(rows int) error
}

// ErrConnLost reports a sink whose connection failed. The open transaction
// was rolled back and the stream locks are gone; close the sink and make a
// new one to go on.
var ErrConnLost = errors.New("postgres: connection lost")

// ErrClosed reports a call to a closed Sink.
var ErrClosed = errors.New("postgres: sink is closed")

// New returns a Sink of the table m describes, creating the schema, the
// table, and the state table when they do not exist. An existing table must
// have the schema's columns and primary key (missing columns are added as
// nullable); otherwise New fails with schema.ErrTableMismatch. The sink
// acquires one connection of pool and keeps it until Close.
func New[T any](ctx context.Context, pool *pgxpool.Pool, m *schema.Mapping[T], cfg Config[T]) (*Sink[T], error) {
	if pool == nil || m == nil {
		return nil, errors.New("postgres: New needs a pool and a mapping")
	}
	t := m.Table()
	if cfg.DeletedColumn != "" && t.ColumnIndex(cfg.DeletedColumn) >= 0 {
		return nil, fmt.Errorf("postgres: table %q: deleted column %q is also a schema column", t.Name, cfg.DeletedColumn)
	}
	if cfg.StateTable == "" {
		cfg.StateTable = "_pagekit_state"
	}
	for _, name := range append([]string{t.Name, cfg.Schema, cfg.StateTable, cfg.DeletedColumn}, columnNames(t)...) {
		// PostgreSQL would silently truncate a longer name.
		if len(name) > 63 {
			return nil, fmt.Errorf("postgres: table %q: name %q is longer than PostgreSQL's 63 bytes", t.Name, name)
		}
	}
	pc, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Sink[T]{
		pc:       pc,
		pool:     pool,
		conn:     pc.Conn(),
		table:    t,
		b:        batch.Builder[T]{Mapping: m, Op: cfg.Op, SoftDelete: cfg.DeletedColumn != "", Dedupe: true},
		keyIdx:   t.KeyIndex(),
		deleted:  cfg.DeletedColumn,
		wait:     cfg.Wait,
		locks:    make(map[string]bool),
		copyRows: copyRows,
	}
	for _, c := range t.Columns {
		s.cols = append(s.cols, c.Type)
	}
	if err := s.setup(ctx, cfg); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: table %q: %w", t.Name, err)
	}
	return s, nil
}

func columnNames(t schema.Table) []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// Table returns the table the sink writes, as its mapping describes it
// (without the DeletedColumn it may add).
func (s *Sink[T]) Table() schema.Table { return s.b.Mapping.Table() }

// Key returns the primary key of item as text (see schema.Mapping.KeyOf),
// which paginate.Run takes for Options.Key when that is nil.
func (s *Sink[T]) Key(item T) string { return s.b.Mapping.KeyOf(item) }

// usable returns the error that stops the sink, if any.
func (s *Sink[T]) usable() error {
	if s.err == nil && s.conn.IsClosed() {
		s.err = ErrConnLost
	}
	return s.err
}

// fail returns err, first marking the sink as lost when its connection
// closed.
func (s *Sink[T]) fail(err error) error {
	if s.err == nil && s.conn.IsClosed() {
		s.err = ErrConnLost
		return fmt.Errorf("%w: %w", ErrConnLost, err)
	}
	return err
}

// Close releases the sink's stream locks and returns its connection to the
// pool. It does not close the pool.
func (s *Sink[T]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pc == nil {
		return nil
	}
	pc := s.pc
	s.pc = nil
	s.err = ErrClosed
	if pc.Conn().IsClosed() {
		pc.Release()
		return nil
	}
	// A pooled connection must come back without our locks and temporary
	// table; if that fails, close it instead, which releases both.
	ctx := context.Background()
	_, err := pc.Exec(ctx, "SELECT pg_advisory_unlock_all()")
	if err == nil && s.q.tmp != "" {
		_, err = pc.Exec(ctx, "DROP TABLE IF EXISTS "+s.q.tmp)
	}
	for _, name := range s.q.prepared {
		if err == nil {
			err = pc.Conn().PgConn().Deallocate(ctx, name)
		}
	}
	if err != nil {
		conn := pc.Hijack()
		conn.Close(ctx)
		return fmt.Errorf("postgres: close: %w", err)
	}
	pc.Release()
	return nil
}

var (
	_ paginate.Committer[int] = (*Sink[int])(nil)
	_ paginate.KeyStore       = (*Sink[int])(nil)
	_ paginate.Keyer[int]     = (*Sink[int])(nil)
)
