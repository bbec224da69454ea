// Command cursor syncs the USER table of a REST API into an SQLite file with
// keyset (cursor) pagination: each request asks for the records updated at or
// after the last record of the previous page.
//
//	go run ./examples/cursor            # full sync from an in-process mock API into ./warehouse.db
//	go run ./examples/cursor            # again: incremental
//	go run ./examples/cursor -url http://127.0.0.1:5001/pagination/page_number
//
// Which endpoint: the mock API offers three that a cursor can walk.
//
//   - /pagination/keyset returns the records strictly later than its token
//     (updatedAt > cursor). Records that share the boundary updatedAt but did
//     not fit on the page are never served: it loses data, so we do not use it.
//   - /pagination/starting_after (Stripe style) walks (createdAt, id) with an
//     exclusive id cursor and has_more. It loses nothing, but has no
//     updated_since filter, so every sync would read everything and updated
//     records would not come again.
//   - /pagination/page_number with updated_since=<last updatedAt> and no page
//     number is a keyset walk over updatedAt with an inclusive filter (>=).
//     The records at the boundary come again on the next page; the Cursor
//     strategy, told the filter is Inclusive, drops those it already
//     delivered (by id) and keeps the rest. Nothing is lost at a tie, the
//     cursor doubles as the incremental mark, and a record updated during the
//     sync moves past the cursor and is read again later, never skipped.
//
// So we use the third. Its one limit: more records sharing one updatedAt than
// a page holds cannot be got past with an inclusive filter; the sync then
// fails with strategies.ErrTieTooLarge instead of looping (use a larger page).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// User is one record of the API; the pagekit tag marks the primary key.
type User struct {
	ID        string    `json:"id" pagekit:",pk"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Company   string    `json:"company"`
	Job       string    `json:"job"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedAt time.Time `json:"createdAt"`
}

// sinceLayout is the API's updated_since format.
const sinceLayout = "2006-01-02T15:04:05Z"

// updated is a record's cursor value, in the format updated_since takes.
func updated(u User) string { return u.UpdatedAt.UTC().Format(sinceLayout) }

type config struct {
	// Flags are the flags every sync shares: -url, -db, -per-page,
	// -timeout, -reset, -restart, -v... A cursor is only known once the
	// page before it has arrived, so this paginator cannot plan and the
	// runner fetches one page ahead whatever -concurrency says.
	console.Flags
	Mock  mockapi.Config
	Retry paginate.Retry
}

func main() {
	cfg := config{Flags: console.Flags{DB: "warehouse.db", PerPage: 50, Concurrency: 4, Timeout: strategies.DefaultHeaderTimeout, Show: 5}}
	fs := flag.NewFlagSet("cursor", flag.ExitOnError)
	cfg.Register(fs, console.SyncFlags)
	cfg.Mock.RegisterFlags(fs)
	fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := run(ctx, cfg, os.Stdout, os.Stderr)
	os.Exit(console.Report(os.Stderr, "cursor", err))
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (paginate.Result, error) {
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

	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		return paginate.Result{}, err
	}
	defer db.Close()
	users, err := sqlite.New(ctx, db, schema.Must(schema.Derive[User]("user")), sqlite.Config[User]{})
	if err != nil {
		return paginate.Result{}, err
	}
	defer users.Close()
	// The stream names the checkpoint. The other examples write the same
	// table of the same file; a stream of our own keeps their checkpoints,
	// whose positions mean nothing to this paginator, out of our way.
	const stream = "user-cursor"
	if cfg.Reset {
		if err := users.Save(ctx, paginate.Checkpoint{Stream: stream}); err != nil {
			return paginate.Result{}, err
		}
	}

	// ?order_by=updatedAt&order_type=asc&per_page=50&updated_since=<cursor>.
	// With SinceParam equal to Param, the first cursor is the sync's
	// incremental mark (or SinceDefault on the first sync).
	api := &strategies.Cursor[User]{
		Request: strategies.Request{
			URL:   endpoint,
			Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		Limits:    strategies.Limits{Timeouts: strategies.Timeouts{Header: cfg.Timeout, Idle: cfg.Timeout}},
		SizeParam: strategies.Query("per_page"),
		Size:      cfg.PerPage,
		Response:  strategies.Shape[User]{ItemsPath: "data"},
		Window: strategies.Window[User]{
			SinceParam:   strategies.Query("updated_since"),
			SinceDefault: "0001-01-01T00:00:00Z",
		},
		CursorParam: strategies.Query("updated_since"),
		Value:       updated,
		Inclusive:   true, // the API's filter is >=: drop the records already delivered
		Key:         func(u User) string { return u.ID },
	}

	prog := console.NewProgress(stderr, stream, cfg.Verbose)
	res, err := paginate.Run(ctx, api, users, paginate.Options[User]{
		Stream:      stream,
		Concurrency: cfg.Concurrency,
		Limits:      paginate.Limits{MaxItems: cfg.Limit},
		Restart:     cfg.Restart,
		HighWater:   updated,
		Key:         func(u User) string { return u.ID },
		// A keyset walk never goes back in updatedAt; a page that does
		// means the API does not sort as promised. (No TrackKeys: a record
		// updated during the sync is meant to come again, later.)
		Checks: paginate.Checks[User]{
			// A keyset walk never goes back in updatedAt; a page that does
			// means the API does not sort as promised. (No TrackKeys: a record
			// updated during the sync is meant to come again, later.)
			Order: func(a, b User) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		},
		Retry:   cfg.Retry,
		Logger:  prog.Logger,
		Observe: prog.Observe,
	})

	if cp, found, lerr := users.Load(context.WithoutCancel(ctx), stream); lerr == nil && found {
		res.Checkpoint = cp // as saved, even if a commit raced with a Ctrl-C
	}
	console.Summary(stdout, res, err)
	if cfg.Show > 0 {
		terr := console.Table(context.WithoutCancel(ctx), stdout, db, fmt.Sprintf("Resulting table \"user\", first %d rows by updatedAt:", cfg.Show),
			`SELECT id, name, email, company, updatedAt FROM "user" ORDER BY updatedAt, id LIMIT ?`, cfg.Show)
		err = errors.Join(err, terr)
	}
	return res, err
}
