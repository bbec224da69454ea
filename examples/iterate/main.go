// Command iterate prints every record of a paginated API with a plain for
// range loop over paginate.Iterate: no sink, no checkpoint, the same engine
// (retries, loop detection, parallel fetching) as a sync, and the run's
// Result (stop reason, pages, retries) once the loop is over.
//
//	go run ./examples/iterate                 # from an in-process mock API
//	go run ./examples/iterate -limit 10       # stop after 10 records
//	go run ./examples/iterate -url http://127.0.0.1:5001/pagination/page_number
package main

import (
	"bufio"
	"context"
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
	"github.com/pagekit/pagekit/strategies"
)

// User is one record of the API.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type config struct {
	console.Flags // the shared flags that apply to a loop: -url, -per-page, -concurrency, -timeout, -limit
	Mock          mockapi.Config
	Retry         paginate.Retry
}

func main() {
	cfg := config{Flags: console.Flags{PerPage: 50, Concurrency: 4, Timeout: strategies.DefaultHeaderTimeout}}
	fs := flag.NewFlagSet("iterate", flag.ExitOnError)
	cfg.Register(fs, console.FlagURL|console.FlagPerPage|console.FlagConcurrency|console.FlagTimeout|console.FlagLimit)
	cfg.Mock.RegisterFlags(fs)
	fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := run(ctx, cfg, os.Stdout, os.Stderr)
	fmt.Fprintf(os.Stderr, "%d records\n", n)
	os.Exit(console.Report(os.Stderr, "iterate", err))
}

// run prints the records, one a line, and returns how many it printed.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) (int, error) {
	endpoint := cfg.URL
	if endpoint == "" {
		srv, err := mockapi.Start(cfg.Mock)
		if err != nil {
			return 0, err
		}
		defer srv.Close()
		endpoint = srv.URL + mockapi.PathPageNumber
		fmt.Fprintf(stderr, "mock API with %d records at %s\n", srv.Len(), endpoint)
	}
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
			TotalPagesPath: "total_pages",
		},
	}

	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%-36s  %-20s  %-24s  %s\n", "id", "updatedAt", "name", "email")
	n := 0
	it := paginate.Iterate(ctx, api, paginate.Options[User]{Concurrency: cfg.Concurrency, Retry: cfg.Retry})
	for u, err := range it.All() {
		if err != nil {
			return n, err // the loop has stopped; err says which page failed and why
		}
		fmt.Fprintf(w, "%-36s  %-20s  %-24s  %s\n", u.ID, u.UpdatedAt.UTC().Format(time.RFC3339), u.Name, u.Email)
		n++
		if int64(n) == cfg.Limit {
			break // stops fetching; no goroutine is left behind
		}
	}
	// After the loop, the run's Result says how it ended. A loop left by
	// break has the stop reason "loop left": only the caller stopped it.
	res := it.Result()
	fmt.Fprintf(stderr, "%d pages read, %d retries, stop reason: %v\n", res.Pages, res.Retries, res.Stop)
	return n, nil
}
