package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/sink/dynamic"
	"github.com/pagekit/pagekit/sink/jsonl"
	"github.com/pagekit/pagekit/sink/parquet"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/spec"
)

// Dest is a destination of the pagekit command: it opens the sink of each
// table a spec fills (spec.Destination), and is closed when the command
// ends. It may also implement Resetter and Shower.
type Dest interface {
	spec.Destination
	Close() error
}

// A Resetter is a Dest that can forget the checkpoints of a stream and of
// its partitions, for sync -reset.
type Resetter interface {
	Reset(ctx context.Context, stream string) error
}

// A Shower is a Dest that can print the first rows of a table, for sync
// -show.
type Shower interface {
	Show(ctx context.Context, w io.Writer, t schema.Table, order string, n int) error
}

// DestFunc opens a destination from what follows its scheme in -dest,
// such as the FILE of duckdb:FILE.
type DestFunc func(ctx context.Context, arg string) (Dest, error)

var (
	destMu sync.Mutex
	dests  = map[string]DestFunc{
		"sqlite":  openSQLite,
		"jsonl":   openJSONL,
		"parquet": openParquet,
	}
)

// Register adds a destination scheme to the command, such as "duckdb",
// which the DuckDB module's pagekit (a cgo build) adds. Call it before
// Main.
func Register(scheme string, f DestFunc) {
	destMu.Lock()
	defer destMu.Unlock()
	dests[scheme] = f
}

// openDest opens the destination that -dest names: sqlite:FILE,
// postgres://..., jsonl:DIR, parquet:DIR, duckdb:FILE (when registered),
// or a bare file name for SQLite.
func openDest(ctx context.Context, dest string) (Dest, error) {
	if strings.HasPrefix(dest, "postgres://") || strings.HasPrefix(dest, "postgresql://") {
		return openPostgres(ctx, dest)
	}
	scheme, arg, ok := strings.Cut(dest, ":")
	destMu.Lock()
	f, known := dests[scheme]
	names := make([]string, 0, len(dests))
	for k := range dests {
		names = append(names, k+":")
	}
	destMu.Unlock()
	slices.Sort(names)
	switch {
	case ok && known:
		if arg == "" {
			return nil, fmt.Errorf("-dest %s: name a file or directory, such as %s:tables", dest, scheme)
		}
		return f(ctx, arg)
	case ok && scheme == "duckdb":
		return nil, errors.New("-dest duckdb: this pagekit is built without DuckDB, which needs cgo; " +
			"the DuckDB module's pagekit has it: in a checkout of pagekit, cd sink/duckdb && go install ./cmd/pagekit (see docs/cli.md)")
	case ok && len(scheme) > 1:
		return nil, fmt.Errorf("-dest %s: unknown destination %q; valid: %s, postgres://DSN", dest, scheme+":", strings.Join(names, ", "))
	}
	return openSQLite(ctx, dest)
}

// sqlDest is a destination in an SQL database, for reset and show.
type sqlDest struct {
	db       *sql.DB
	quote    func(string) string
	param    func(int) string
	closeAll func() error
}

func (d *sqlDest) Close() error { return d.closeAll() }

// Reset deletes the checkpoints of stream and of its partitions.
func (d *sqlDest) Reset(ctx context.Context, stream string) error {
	prefix := stream + "/"
	q := fmt.Sprintf(`DELETE FROM %s WHERE stream = %s OR substr(stream, 1, %d) = %s`,
		d.quote("_pagekit_state"), d.param(1), len(prefix), d.param(2))
	if _, err := d.db.ExecContext(ctx, q, stream, prefix); err != nil && !strings.Contains(err.Error(), "no such table") &&
		!strings.Contains(err.Error(), "does not exist") {
		return fmt.Errorf("reset %q: %w", stream, err)
	}
	return nil
}

// Show prints the first n rows of t, by order.
func (d *sqlDest) Show(ctx context.Context, w io.Writer, t schema.Table, order string, n int) error {
	var cols []string
	for _, c := range t.Columns {
		if len(cols) == 6 {
			break
		}
		cols = append(cols, d.quote(c.Name))
	}
	by := make([]string, 0, 2)
	if order != "" && t.ColumnIndex(order) >= 0 {
		by = append(by, d.quote(order))
	}
	for _, k := range t.PrimaryKey {
		by = append(by, d.quote(k))
	}
	title := fmt.Sprintf("Table %q, first %d rows by %s:", t.Name, n, strings.Trim(by[0], `"`))
	q := fmt.Sprintf("SELECT %s FROM %s ORDER BY %s LIMIT %d", strings.Join(cols, ", "), d.quote(t.Name), strings.Join(by, ", "), n)
	return console.Table(ctx, w, d.db, title, q)
}

// SQLDest returns a Dest in the SQL database db, whose sinks open opens,
// such as the DuckDB build's duckdb:FILE. It can forget a stream's
// checkpoints (sync -reset) and print a table's first rows (sync -show)
// in a database that takes ? parameters and double-quoted names, whose
// sinks keep their checkpoints in the table _pagekit_state. Closing it
// closes db.
func SQLDest(db *sql.DB, open func(context.Context, *schema.Mapping[spec.Record]) (dynamic.Sink, error)) Dest {
	return &funcDest{sqlDest{db: db, quote: quoteIdent, param: func(int) string { return "?" }, closeAll: db.Close}, open}
}

// funcDest is the Dest of SQLDest.
type funcDest struct {
	sqlDest
	open func(context.Context, *schema.Mapping[spec.Record]) (dynamic.Sink, error)
}

func (d *funcDest) Open(ctx context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
	return d.open(ctx, m)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqliteDest is an SQLite file.
type sqliteDest struct{ sqlDest }

func openSQLite(_ context.Context, file string) (Dest, error) {
	db, err := sqlite.Open(file)
	if err != nil {
		return nil, err
	}
	return &sqliteDest{sqlDest{db: db, quote: quoteIdent, param: func(int) string { return "?" }, closeAll: db.Close}}, nil
}

func (d *sqliteDest) Open(ctx context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
	return sqlite.New(ctx, d.db, m, sqlite.Config[spec.Record]{})
}

// postgresDest is a PostgreSQL database.
type postgresDest struct {
	sqlDest
	pool   *pgxpool.Pool
	schema string // PostgreSQL schema of the tables; empty: the search path's
}

func openPostgres(ctx context.Context, dsn string) (Dest, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("-dest postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return &postgresDest{sqlDest: sqlDest{db: db, quote: quoteIdent, param: func(i int) string { return fmt.Sprintf("$%d", i) },
		closeAll: func() error { err := db.Close(); pool.Close(); return err }}, pool: pool}, nil
}

func (d *postgresDest) Open(ctx context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
	// Wait: a worker waits for a stream another one is syncing.
	return postgres.New(ctx, d.pool, m, postgres.Config[spec.Record]{Wait: true, Schema: d.schema})
}

// jsonlDest is a directory of JSON Lines files, one a table.
type jsonlDest struct{ dir string }

func openJSONL(_ context.Context, dir string) (Dest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &jsonlDest{dir: dir}, nil
}

func (d *jsonlDest) Open(_ context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
	return jsonl.Open[spec.Record](filepath.Join(d.dir, m.Table().Name+".jsonl"), jsonl.Config{})
}

func (d *jsonlDest) Close() error { return nil }

// parquetDest is a directory of Parquet tables, one a subdirectory.
type parquetDest struct{ dir string }

func openParquet(_ context.Context, dir string) (Dest, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &parquetDest{dir: dir}, nil
}

func (d *parquetDest) Open(ctx context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
	return parquet.New(ctx, parquet.Dir(filepath.Join(d.dir, m.Table().Name)), m, parquet.Config[spec.Record]{})
}

func (d *parquetDest) Close() error { return nil }
