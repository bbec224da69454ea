// Command offset syncs the USER table of an offset paginated REST API
// (?offset=100&limit=50) into an SQLite file.
//
//	go run ./examples/offset            # full sync from an in-process mock API into ./warehouse.db
//	go run ./examples/offset            # again: incremental, from the saved high-water mark
//	go run ./examples/offset -url http://127.0.0.1:5001/pagination/offset
//
// The offset advances by the records actually received, so a server that
// serves fewer than asked loses nothing (try -page-cap 20). The response's
// total lets the runner fetch several offsets at once (-concurrency).
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

// User is one record of the API. The pagekit tag marks the primary key;
// the column types follow the Go types (string: STRING, time.Time:
// UTC_DATETIME).
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

type config struct {
	console.Flags // the flags every sync shares: -url, -db, -per-page, -timeout, -reset, -restart, -v...
	Mock          mockapi.Config
	Retry         paginate.Retry
}

func main() {
	cfg := config{Flags: console.Flags{DB: "warehouse.db", PerPage: 50, Concurrency: 4, Timeout: strategies.DefaultHeaderTimeout, Show: 5}}
	fs := flag.NewFlagSet("offset", flag.ExitOnError)
	cfg.Register(fs, console.SyncFlags)
	cfg.Mock.RegisterFlags(fs)
	fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := run(ctx, cfg, os.Stdout, os.Stderr)
	os.Exit(console.Report(os.Stderr, "offset", err))
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (paginate.Result, error) {
	endpoint := cfg.URL
	if endpoint == "" {
		srv, err := mockapi.Start(cfg.Mock)
		if err != nil {
			return paginate.Result{}, err
		}
		defer srv.Close()
		endpoint = srv.URL + mockapi.PathOffset
		fmt.Fprintf(stderr, "mock API with %d records at %s\n", srv.Len(), endpoint)
	}

	// The USER table, derived from the struct, and the checkpoint, in one
	// SQLite file.
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
	const stream = "user-offset"
	if cfg.Reset {
		if err := users.Save(ctx, paginate.Checkpoint{Stream: stream}); err != nil {
			return paginate.Result{}, err
		}
	}

	// ?order_by=updatedAt&order_type=asc&updated_since=...&limit=50&offset=0,
	// then offset=50, 100, ... until the offset reaches the total.
	api := &strategies.Offset[User]{
		Request: strategies.Request{
			URL:   endpoint,
			Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		Limits: strategies.Limits{Timeouts: strategies.Timeouts{Header: cfg.Timeout, Idle: cfg.Timeout}},
		Size:   cfg.PerPage,
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalItemsPath: "total",
		},
		Window: strategies.Window[User]{
			SinceParam:   strategies.Query("updated_since"),
			SinceDefault: "0001-01-01T00:00:00Z",
		},
	}

	prog := console.NewProgress(stderr, stream, cfg.Verbose)
	res, err := paginate.Run(ctx, api, users, paginate.Options[User]{
		Stream:    stream,
		HighWater: func(u User) string { return u.UpdatedAt.UTC().Format(sinceLayout) },
		// Records updated while we page move to the end and shift the
		// others down an offset: a key seen twice says so, and the next
		// sync then reads again from the same mark. The SQLite file keeps
		// the keys of a sync in progress, so this holds across a resume.
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
