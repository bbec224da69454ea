// Command connector syncs three streams of one REST API into one SQLite
// file, as a connector of many streams does: the users (page number,
// incremental), the orders of each user (a child stream: one partition per
// user, /users/{id}/orders, each with its own checkpoint and incremental
// mark), and an event log (next token, incremental). Copy it, change the
// URLs, the structs and the tables, and you have a connector.
//
//	go run ./examples/connector                        # every stream from an in-process mock API into ./connector.db
//	go run ./examples/connector                        # again: incremental, only the changed users' orders
//	go run ./examples/connector -streams orders,events # a selection
//	go run ./examples/connector -reset -streams events # forget one stream's checkpoints: a full re-sync of it
//	go run ./examples/connector -discover              # the streams and their tables, without syncing
//	go run ./examples/connector -in-flight 8 -rate 20  # 8 requests at once, 20 a second to the host
//	go run ./examples/connector -url http://127.0.0.1:5001
//
// The streams run at once, within one budget of requests in flight and one
// rate limit for the host, and a Retry-After from the host pauses them
// all. A stream that fails leaves the others running; a user whose orders
// fail is kept and retried first by the next run. Each page's rows commit
// with their checkpoint in one transaction, so Ctrl-C or kill -9 at any
// moment loses nothing: the next run resumes every stream and partition at
// its first page not committed.
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
	"strings"
	"syscall"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// User, Order and Event are the API's records, decoded from JSON by their
// json tags; the pagekit tags mark the primary keys of their tables.
type User struct {
	ID        string    `json:"id" pagekit:",pk"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Company   string    `json:"company"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type Order struct {
	ID        string    `json:"id" pagekit:",pk"`
	UserID    string    `json:"userId"`
	Status    string    `json:"status"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type Event struct {
	ID        string    `json:"id" pagekit:",pk"`
	Type      string    `json:"type"`
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
}

// markLayout is the API's timestamp format for updated_since and
// created_since. It is fixed-width, so the marks sort as the times they
// stand for.
const markLayout = "2006-01-02T15:04:05Z"

func mark(t time.Time) string { return t.UTC().Format(markLayout) }

// config is what the flags set; the tests fill it directly.
type config struct {
	// Flags are the flags every sync shares: -url (the API's base URL),
	// -db, -streams, -per-page, -concurrency (pages of one stream or user
	// at once), -timeout, -reset, -restart, -v, -show.
	console.Flags
	Discover  bool           // list the streams and tables, and sync nothing
	EveryUser bool           // visit every user's orders, not only the changed users'
	InFlight  int            // requests in flight at once, over every stream
	Rate      float64        // requests a second to the host; 0: no limit
	Mock      mockapi.Config // the in-process mock API, when URL is empty
	Retry     paginate.Retry // the retry policy; the zero value is sane
}

func main() {
	cfg := config{
		Flags: console.Flags{DB: "connector.db", PerPage: 50, Concurrency: 4, Timeout: strategies.DefaultHeaderTimeout, Show: 3},
		Mock:  mockapi.Config{Records: 500},
	}
	fs := flag.NewFlagSet("connector", flag.ExitOnError)
	cfg.Register(fs, console.FlagURL|console.FlagDB|console.FlagStreams|console.FlagPerPage|console.FlagConcurrency|
		console.FlagTimeout|console.FlagReset|console.FlagRestart|console.FlagVerbose|console.FlagShow)
	fs.Lookup("url").Usage = "the API's base `URL`, such as http://127.0.0.1:5001 (default: an in-process mock API)"
	fs.Lookup("streams").Usage = "comma-separated `streams` to sync: users, orders, events (default: all)"
	fs.BoolVar(&cfg.Discover, "discover", false, "list the streams and their tables, and sync nothing")
	fs.BoolVar(&cfg.EveryUser, "every-user", false, "visit the orders of every user, not only of the users changed since the last sync")
	fs.IntVar(&cfg.InFlight, "in-flight", 16, "requests in flight at once, over every stream")
	fs.Float64Var(&cfg.Rate, "rate", 0, "requests a second to the API's host (0: no limit)")
	cfg.Mock.RegisterFlags(fs)
	fs.Parse(os.Args[1:])

	// Ctrl-C or SIGTERM cancels ctx: every stream stops after the pages
	// being committed, and the next run resumes from there.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := run(ctx, cfg, os.Stdout, os.Stderr)
	os.Exit(console.Report(os.Stderr, "connector", err))
}

// run syncs the streams cfg selects, with progress on stderr and the
// summary table on stdout, and returns the run's result.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (connector.Result, error) {
	// The API: the one at -url, or the mock API served from this process.
	base := strings.TrimSuffix(cfg.URL, "/")
	if base == "" {
		srv, err := mockapi.Start(cfg.Mock)
		if err != nil {
			return connector.Result{}, err
		}
		defer srv.Close()
		base = srv.URL
		fmt.Fprintf(stderr, "mock API with %d users at %s\n", srv.Len(), base)
	}

	// The destination: three tables in one SQLite file, each sink keeping
	// its streams' checkpoints in the file's state table, so that each
	// page's rows and checkpoint commit in one transaction.
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		return connector.Result{}, err
	}
	defer db.Close()
	dst, err := openTables(ctx, db)
	if err != nil {
		return connector.Result{}, err
	}
	defer dst.close()

	prog := console.NewConnectorProgress(stderr, cfg.Verbose)
	lim := connector.NewLimiter(connector.Limits{InFlight: cfg.InFlight, Rate: cfg.Rate})
	c, err := connector.New(connector.Config{Limiter: lim, Logger: prog.Logger, Observe: prog.Observe},
		streams(base, lim.Client(), dst, cfg)...)
	if err != nil {
		return connector.Result{}, err
	}
	if cfg.Discover {
		return connector.Result{}, discover(stdout, c)
	}
	if cfg.Reset {
		if err := reset(ctx, db, c, cfg.Streams); err != nil {
			return connector.Result{}, err
		}
	}
	res, err := c.Run(ctx, cfg.Streams...)
	prog.Finish()
	console.ConnectorSummary(stdout, res, err)
	if cfg.Show > 0 && len(res.Streams) > 0 {
		err = errors.Join(err, show(context.WithoutCancel(ctx), stdout, db, cfg.Show))
	}
	return res, err
}

// show prints the first rows of each table.
func show(ctx context.Context, w io.Writer, db *sql.DB, n int) error {
	for _, q := range []struct{ table, columns, order string }{
		{"users", `id, name, email, "updatedAt"`, `"updatedAt", id`},
		{"orders", `id, "userId", status, amount, "updatedAt"`, `"updatedAt", id`},
		{"events", `id, type, "userId", "createdAt"`, `"createdAt", id`},
	} {
		title := fmt.Sprintf("Table %q, first %d rows by %s:", q.table, n, strings.Trim(strings.Split(q.order, ",")[0], `"`))
		query := fmt.Sprintf(`SELECT %s FROM %q ORDER BY %s LIMIT %d`, q.columns, q.table, q.order, n)
		if err := console.Table(ctx, w, db, title, query); err != nil {
			return err
		}
	}
	return nil
}

// tables are the sinks of the three tables.
type tables struct {
	users  *sqlite.Sink[User]
	orders *sqlite.Sink[Order]
	events *sqlite.Sink[Event]
}

func openTables(ctx context.Context, db *sql.DB) (*tables, error) {
	t := &tables{}
	var err error
	if t.users, err = sqlite.New(ctx, db, schema.Must(schema.Derive[User]("users")), sqlite.Config[User]{}); err != nil {
		return nil, err
	}
	if t.orders, err = sqlite.New(ctx, db, schema.Must(schema.Derive[Order]("orders")), sqlite.Config[Order]{}); err != nil {
		t.close()
		return nil, err
	}
	if t.events, err = sqlite.New(ctx, db, schema.Must(schema.Derive[Event]("events")), sqlite.Config[Event]{}); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

func (t *tables) close() {
	for _, c := range []io.Closer{t.users, t.orders, t.events} {
		if c != nil {
			c.Close()
		}
	}
}

// streams declares the connector's streams. Every paginator sends its
// requests through client, the Limiter's, so that the budget, the rate and
// Retry-After pauses apply to them all.
func streams(base string, client strategies.Doer, dst *tables, cfg config) []*connector.Stream {
	timeouts := strategies.Timeouts{Header: cfg.Timeout, Idle: cfg.Timeout}
	users := connector.NewStream("users", &strategies.PageNumber[User]{
		Request: strategies.Request{
			URL:    base + mockapi.PathPageNumber,
			Client: client,
			Query:  url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		Limits:    strategies.Limits{Timeouts: timeouts},
		Size:      cfg.PerPage,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
			TotalItemsPath: "total_items",
		},
		Window: strategies.Window[User]{SinceParam: strategies.Query("updated_since")},
	}, dst.users, paginate.Options[User]{
		// The incremental mark, sent as updated_since next time; the
		// filter is inclusive, so the records at the mark come again
		// and are upserted, never lost.
		HighWater: func(u User) string { return mark(u.UpdatedAt) },
		// Drift detection: the users are read by page number, so a user
		// updated while we page moves to the end and every user after it
		// one place back, and one slides onto a page already read. A key
		// seen twice in one sync (TrackKeys), or a page that starts
		// before the previous one ended (Order), says so, and the next
		// sync reads again from this one's mark: the user slid past is
		// not lost. The orders' read of the users' list has the same
		// protection, so no user's orders are skipped either. The
		// database keeps the keys of a sync in progress, so a sync
		// resumed after a crash still sees a user it read before come
		// again. (The runner would take the same settings from the
		// table's primary key and the marks; they are spelled out here
		// to be read.)
		Key: func(u User) string { return u.ID },
		Checks: paginate.Checks[User]{
			TrackKeys: true,
			Order:     func(a, b User) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		},
		Concurrency: cfg.Concurrency,
		Restart:     cfg.Restart,
		Retry:       cfg.Retry,
	})

	// One partition per user: its own paginator, its own checkpoint
	// ("orders/<user id>"), its own updated_since. By default a sync
	// visits the users changed since the last one (the users list from
	// its own mark); -every-user visits them all.
	orders := connector.NewChild("orders", connector.ChildOf[User, Order]{
		Parent: users,
		Key:    func(u User) string { return u.ID },
		Paginator: func(u User) (paginate.Paginator[Order], error) {
			return &strategies.PageNumber[Order]{
				Request:   strategies.Request{URL: base + mockapi.OrdersPath(url.PathEscape(u.ID)), Client: client},
				Limits:    strategies.Limits{Timeouts: timeouts},
				Size:      cfg.PerPage,
				SizeParam: strategies.Query("per_page"),
				Response: strategies.Shape[Order]{
					ItemsPath:      "data",
					TotalPagesPath: "total_pages",
					TotalItemsPath: "total_items",
				},
				Window: strategies.Window[Order]{SinceParam: strategies.Query("updated_since")},
			}, nil
		},
		Every: cfg.EveryUser,
	}, dst.orders, paginate.Options[Order]{
		HighWater:   func(o Order) string { return mark(o.UpdatedAt) },
		Key:         func(o Order) string { return o.ID },
		Concurrency: cfg.Concurrency,
		Restart:     cfg.Restart,
		Retry:       cfg.Retry,
	})

	// An append-only log behind an opaque next token, incremental by
	// created_since.
	events := connector.NewStream("events", &strategies.NextToken[Event]{
		Request:    strategies.Request{URL: base + mockapi.PathEvents, Client: client},
		Limits:     strategies.Limits{Timeouts: timeouts},
		Size:       cfg.PerPage,
		Response:   strategies.Shape[Event]{ItemsPath: "data"},
		Window:     strategies.Window[Event]{SinceParam: strategies.Query("created_since")},
		TokenPath:  "next_token",
		TokenParam: strategies.Query("next_token"),
	}, dst.events, paginate.Options[Event]{
		HighWater: func(e Event) string { return mark(e.CreatedAt) },
		Key:       func(e Event) string { return e.ID },
		Restart:   cfg.Restart,
		Retry:     cfg.Retry,
	})
	return []*connector.Stream{users, orders, events}
}

// discover prints each stream with its table's columns.
func discover(w io.Writer, c *connector.Connector) error {
	for _, s := range c.Discover() {
		fmt.Fprintf(w, "%s", s.Name)
		if s.Parent != "" {
			fmt.Fprintf(w, " (one partition per %s record)", s.Parent)
		}
		if s.Table == nil {
			fmt.Fprintln(w, ": no table")
			continue
		}
		fmt.Fprintf(w, ": table %q, primary key %v\n", s.Table.Name, s.Table.PrimaryKey)
		for _, col := range s.Table.Columns {
			fmt.Fprintf(w, "    %-10s %v\n", col.Name, col.Type)
		}
	}
	return nil
}

// reset deletes the checkpoints of the named streams (all when none is
// named) from the state table: a top-level stream's, and a child stream's
// own and its partitions' ("orders/<user id>"). Their next sync starts
// over; the rows already in the tables stay and are upserted again.
func reset(ctx context.Context, db *sql.DB, c *connector.Connector, names []string) error {
	if len(names) == 0 {
		for _, s := range c.Streams() {
			names = append(names, s.Name())
		}
	}
	for _, name := range names {
		if c.Stream(name) == nil {
			return fmt.Errorf("%w: %q", connector.ErrUnknownStream, name)
		}
		prefix := name + "/"
		if _, err := db.ExecContext(ctx, `DELETE FROM _pagekit_state WHERE stream = ? OR substr(stream, 1, ?) = ?`,
			name, len(prefix), prefix); err != nil {
			return fmt.Errorf("reset %q: %w", name, err)
		}
	}
	return nil
}
