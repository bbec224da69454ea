// Command nexttoken syncs the USER table of a REST API that hands out the
// next page with each page, into an SQLite file. Three variants of the
// pattern, chosen by -variant:
//
//	url    the next page's URL in the body:      {"data": [...], "next_page_url": "http://..."}
//	link   the next page's URL in a Link header: Link: <http://...>; rel="next"
//	token  an opaque token in the body, sent back as a parameter: {"data": [...], "next_token": "..."}
//
//	go run ./examples/nexttoken                  # -variant url, from an in-process mock API
//	go run ./examples/nexttoken -variant link
//	go run ./examples/nexttoken -url http://127.0.0.1:5001/pagination/next_page_url
//
// The runner stops when the next URL or token is missing or null. A token or
// URL that repeats, or leads to a page already seen, stops the sync with
// paginate.ErrLoop instead of looping for ever, and a next URL to another
// host is refused (strategies.ErrOtherOrigin) so credentials stay home.
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

type config struct {
	Variant string // url, link or token
	// Flags are the flags every sync shares: -url, -db, -per-page,
	// -timeout, -reset, -restart, -v... A next token is only known once
	// the page before it has arrived, so this paginator cannot plan and
	// the runner fetches one page ahead whatever -concurrency says.
	console.Flags
	Mock  mockapi.Config
	Retry paginate.Retry
}

func main() {
	cfg := config{Flags: console.Flags{DB: "warehouse.db", PerPage: 50, Concurrency: 4, Timeout: strategies.DefaultHeaderTimeout, Show: 5}}
	fs := flag.NewFlagSet("nexttoken", flag.ExitOnError)
	fs.StringVar(&cfg.Variant, "variant", "url", "where the next page is: url (next_page_url in the body), link (Link header) or token (next_token in the body)")
	cfg.Register(fs, console.SyncFlags)
	cfg.Mock.RegisterFlags(fs)
	fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := run(ctx, cfg, os.Stdout, os.Stderr)
	os.Exit(console.Report(os.Stderr, "nexttoken", err))
}

// paginator returns the paginator of a variant, for the API at endpoint
// (or, when endpoint is empty, the mock API at base), and whether its
// walk is page-numbered underneath, so that records updated during a sync
// can shift between pages.
func paginator(variant, endpoint, base string, perPage int) (*strategies.NextToken[User], error) {
	sorted := url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}}
	switch variant {
	case "url":
		// The first request is built from URL; the next ones are the
		// next_page_url as served, with its per_page, page and
		// updated_since.
		return &strategies.NextToken[User]{
			Request:   strategies.Request{URL: or(endpoint, base+mockapi.PathNextPageURL), Query: sorted},
			SizeParam: strategies.Query("per_page"),
			Size:      perPage,
			Response: strategies.Shape[User]{
				ItemsPath:      "data",
				TotalItemsPath: "total_items",
			},
			Window: strategies.Window[User]{
				SinceParam:   strategies.Query("updated_since"),
				SinceDefault: "0001-01-01T00:00:00Z",
			},
			NextURLPath: "next_page_url",
			// The next URLs hold page numbers: a record updated during
			// the sync shifts the others across them, and the runner
			// tracks keys to see it (docs/consistency.md).
			ByPosition: true,
		}, nil
	case "link":
		// The body is a bare array (ItemsPath ""); the total is in
		// X-Total-Count, the next page in Link: <...>; rel="next".
		return &strategies.NextToken[User]{
			Request:   strategies.Request{URL: or(endpoint, base+mockapi.PathLinkHeader), Query: sorted},
			SizeParam: strategies.Query("per_page"),
			Size:      perPage,
			Response:  strategies.Shape[User]{TotalItemsHeader: "X-Total-Count"},
			Window: strategies.Window[User]{
				SinceParam:   strategies.Query("updated_since"),
				SinceDefault: "0001-01-01T00:00:00Z",
			},
			LinkRel:    "next",
			ByPosition: true, // page numbers, as next_page_url
		}, nil
	case "token":
		// ?limit=50&updated_since=...&next_token=<token from the last page>.
		return &strategies.NextToken[User]{
			Request:   strategies.Request{URL: or(endpoint, base+mockapi.PathNextToken)},
			SizeParam: strategies.Query("limit"),
			Size:      perPage,
			Response:  strategies.Shape[User]{ItemsPath: "data"},
			Window: strategies.Window[User]{
				SinceParam:   strategies.Query("updated_since"),
				SinceDefault: "0001-01-01T00:00:00Z",
			},
			TokenPath:  "next_token",
			TokenParam: strategies.Query("next_token"),
		}, nil
	}
	return nil, fmt.Errorf("unknown -variant %q: want url, link or token", variant)
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (paginate.Result, error) {
	var base string
	if cfg.URL == "" {
		srv, err := mockapi.Start(cfg.Mock)
		if err != nil {
			return paginate.Result{}, err
		}
		defer srv.Close()
		base = srv.URL
		fmt.Fprintf(stderr, "mock API with %d records at %s\n", srv.Len(), base)
	}
	api, err := paginator(cfg.Variant, cfg.URL, base, cfg.PerPage)
	if api != nil {
		api.Limits.Timeouts = strategies.Timeouts{Header: cfg.Timeout, Idle: cfg.Timeout}
	}
	if err != nil {
		return paginate.Result{}, err
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
	// The stream names the checkpoint. The other examples, and the other
	// variants, write the same table of the same file; a stream of our own
	// keeps their checkpoints, whose positions mean nothing to this
	// paginator, out of our way.
	stream := "user-nexttoken-" + cfg.Variant
	if cfg.Reset {
		if err := users.Save(ctx, paginate.Checkpoint{Stream: stream}); err != nil {
			return paginate.Result{}, err
		}
	}

	prog := console.NewProgress(stderr, stream, cfg.Verbose)
	res, err := paginate.Run(ctx, api, users, paginate.Options[User]{
		Stream:      stream,
		Concurrency: cfg.Concurrency,
		Limits:      paginate.Limits{MaxItems: cfg.Limit},
		Restart:     cfg.Restart,
		HighWater:   func(u User) string { return u.UpdatedAt.UTC().Format(sinceLayout) },
		Key:         func(u User) string { return u.ID },
		// The runner tracks the keys of the page-numbered variants
		// (ByPosition), where a key seen twice says records shifted.
		// The token endpoint's tokens continue after the last record,
		// which a record updated during the sync moves past, to be read
		// again, by design.
		Checks: paginate.Checks[User]{
			// The runner tracks the keys of the page-numbered variants
			// (ByPosition), where a key seen twice says records shifted.
			// The token endpoint's tokens continue after the last record,
			// which a record updated during the sync moves past, to be read
			// again, by design.
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
