// Command pagenumber is pagekit's flagship page-number connector
// (examples/pagenumber in the pagekit module) with one more destination,
// DuckDB: -duckdb FILE syncs the USER table and its checkpoint into a
// DuckDB database file, the same table and state table as the SQLite file
// of -db, so that you can run it as Fivetran's connector tester would and
// open the result with DuckDB.
//
//	cd sink/duckdb
//	go run ./examples/pagenumber -duckdb warehouse.duckdb     # full sync from the in-process mock API
//	go run ./examples/pagenumber -duckdb warehouse.duckdb     # again: incremental
//	duckdb warehouse.duckdb 'SELECT count(*) FROM "user"'
//	go run ./examples/pagenumber -db warehouse.db             # into SQLite, as the flagship does
//
// It lives in the DuckDB sink's module because DuckDB needs cgo: the
// pagekit module, and the flagship in it, build without cgo. The sync
// itself is the flagship's, line for line; only the destinations differ
// (open, and the flags that pick one).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// User is one record of the API, decoded from JSON by its json tags.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Company   string    `json:"company"`
	Job       string    `json:"job"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedAt time.Time `json:"createdAt"`
}

// userTable is the destination table, declared as the SDK example's schema()
// declares it.
var userTable = schema.Table{
	Name:       "user",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String},
		{Name: "name", Type: schema.String},
		{Name: "email", Type: schema.String},
		{Name: "address", Type: schema.String},
		{Name: "company", Type: schema.String},
		{Name: "job", Type: schema.String},
		{Name: "updatedAt", Type: schema.UTCDatetime},
		{Name: "createdAt", Type: schema.UTCDatetime},
	},
}

// sinceLayout is the API's updated_since format. It is fixed-width, so the
// high-water marks it gives sort as the times they stand for.
const sinceLayout = "2006-01-02T15:04:05Z"

// config is what the flags set; the tests fill it directly.
type config struct {
	console.Flags                // the flags every sync shares: -url, -db, -per-page, -timeout, -reset, -restart, -v...
	DuckDB        string         // DuckDB database file; when set, the destination instead of DB
	Mock          mockapi.Config // the in-process mock API, when URL is empty
	Retry         paginate.Retry // the retry policy; the zero value is sane
}

func main() {
	cfg := config{Flags: console.Flags{DB: "warehouse.db", PerPage: 50, Concurrency: 4, Timeout: strategies.DefaultHeaderTimeout, Show: 5}}
	fs := flag.NewFlagSet("pagenumber", flag.ExitOnError)
	cfg.Register(fs, console.SyncFlags)
	fs.StringVar(&cfg.DuckDB, "duckdb", "", "sync into the DuckDB database `file` instead of SQLite")
	cfg.Mock.RegisterFlags(fs)
	fs.Parse(os.Args[1:])

	// Ctrl-C or SIGTERM cancels ctx: the run stops after the page being
	// committed, and the next run resumes from there.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := run(ctx, cfg, os.Stdout, os.Stderr)
	os.Exit(console.Report(os.Stderr, "pagenumber", err))
}

// run syncs the USER table as cfg says, printing a summary to stdout and
// progress to stderr, and returns the run's result.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (paginate.Result, error) {
	// The API: the one at -url, or the mock API served from this process.
	endpoint := cfg.URL
	if endpoint == "" {
		srv, err := mockapi.Start(cfg.Mock)
		if err != nil {
			return paginate.Result{}, err
		}
		defer srv.Close()
		endpoint = srv.URL + mockapi.PathPageNumber
		fmt.Fprintf(stderr, "mock API with %d records at %s\n", srv.Len(), endpoint)
	}

	// The destination: the USER table, in a DuckDB or an SQLite file.
	// Either keeps the checkpoint in the same database, so each page's rows
	// and checkpoint commit in one transaction.
	const stream = "user"
	users, db, closeAll, err := open(ctx, cfg)
	if err != nil {
		return paginate.Result{}, err
	}
	defer closeAll()
	if cfg.Reset {
		// An empty checkpoint: no position, no high-water mark.
		if err := users.Save(ctx, paginate.Checkpoint{Stream: stream}); err != nil {
			return paginate.Result{}, err
		}
	}

	// The paginator: the API's requests and stop rules. The runner sets
	// updated_since from the checkpoint; the first sync sends the default.
	api := &strategies.PageNumber[User]{
		Request: strategies.Request{
			URL:   endpoint,
			Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		Limits:    strategies.Limits{Timeouts: strategies.Timeouts{Header: cfg.Timeout, Idle: cfg.Timeout}},
		Size:      cfg.PerPage,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages", // stop at page >= total_pages; plan parallel fetches
			TotalItemsPath: "total_items", // for the progress bar
		},
		Window: strategies.Window[User]{
			SinceParam:   strategies.Query("updated_since"),
			SinceDefault: "0001-01-01T00:00:00Z",
		},
		OmitFirstPage: true,   // page 1 is the server's default: the first request leaves page out
		PagePath:      "page", // a server answering another page than asked is an error
	}

	prog := console.NewProgress(stderr, stream, cfg.Verbose)
	res, err := paginate.Run(ctx, api, users, paginate.Options[User]{
		Stream: stream,
		// The incremental mark: updatedAt in the API's own format, sent as
		// updated_since next time. The filter is inclusive (>=), so the
		// records at the mark come again and are upserted, never lost.
		HighWater: func(u User) string { return u.UpdatedAt.UTC().Format(sinceLayout) },
		// Drift detection: a key seen twice in one sync, or a page that
		// starts before the previous one ended, means records moved while
		// we paged; the next sync then re-reads from the same mark. The
		// database keeps the keys of the sync in progress, so a sync
		// resumed after a crash still sees a record it committed before
		// the crash come again. Order compares updatedAt only: that is
		// the order the API promises. (The runner would take the same
		// settings from the table's primary key and the marks; they are
		// spelled out here to be read.)
		Key: func(u User) string { return u.ID },
		Checks: paginate.Checks[User]{
			TrackKeys: true,
			Order:     func(a, b User) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		},
		Concurrency: cfg.Concurrency,
		Limits:      paginate.Limits{MaxItems: cfg.Limit},
		Restart:     cfg.Restart,
		Retry:       cfg.Retry,
		Logger:      prog.Logger,
		Observe:     prog.Observe,
	})

	// The summary reports the checkpoint as saved: a page whose commit
	// raced with a Ctrl-C may be in the database although the run counted
	// it as not committed.
	if cp, found, lerr := users.Load(context.WithoutCancel(ctx), stream); lerr == nil && found {
		res.Checkpoint = cp
	}
	console.Summary(stdout, res, err)
	if cfg.Show > 0 && db != nil {
		terr := console.Table(context.WithoutCancel(ctx), stdout, db, fmt.Sprintf("Resulting table %q, first %d rows by updatedAt:", userTable.Name, cfg.Show),
			`SELECT id, name, email, company, "updatedAt" FROM "user" ORDER BY "updatedAt", id LIMIT `+strconv.Itoa(cfg.Show))
		err = errors.Join(err, terr)
	}
	return res, err
}

// destination is what the DuckDB and SQLite sinks both are: a sink
// that commits each page with its checkpoint, and the checkpoint store.
type destination interface {
	paginate.Sink[User]
	paginate.Committer[User]
	paginate.Store
}

// open returns the USER table's sink as cfg chooses, the database for
// queries, and a function that closes them.
func open(ctx context.Context, cfg config) (destination, *sql.DB, func(), error) {
	users := schema.Must(schema.Bind[User](userTable))
	if cfg.DuckDB != "" {
		// DuckDB lets one process at a time open the file: another run
		// into it fails here, naming the process.
		db, err := duckdb.Open(cfg.DuckDB)
		if err != nil {
			return nil, nil, nil, err
		}
		s, err := duckdb.New(ctx, db, users, duckdb.Config[User]{})
		if err != nil {
			db.Close()
			return nil, nil, nil, err
		}
		return s, db, func() { s.Close(); db.Close() }, nil
	}
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := sqlite.New(ctx, db, users, sqlite.Config[User]{})
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return s, db, func() { s.Close(); db.Close() }, nil
}
