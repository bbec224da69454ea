// Command workers syncs a connector of three streams (the users, the
// orders of each user, and an event log) as River jobs
// (github.com/riverqueue/river): one job per stream partition, here one
// per user's orders, worked by as many worker processes, on as many
// machines, as share one PostgreSQL database. Without -postgres it runs in
// one process on SQLite.
//
//	go run ./examples/workers                                  # one process on SQLite: a sync, then the tables
//	go run ./examples/workers -work -enqueue -ui 127.0.0.1:8080 # the same, then River's web UI until Ctrl-C
//	go run ./examples/workers -work -schedule 1m               # a sync a minute, on SQLite
//	go run ./examples/workers -postgres "$DSN" -work -ui 127.0.0.1:8080 # a worker: start more, anywhere
//	go run ./examples/workers -postgres "$DSN" -work -schedule 5m       # give every worker the same -schedule
//	go run ./examples/workers -postgres "$DSN" -enqueue                 # put a sync in the queue
//
// A partition's job is unique while it is queued or running, so no two
// workers sync one partition at once and a sync enqueued while the last
// one runs skips what still runs. A partition's pages commit with their
// checkpoints, and its last page with the job's completion, in one
// transaction. A worker killed mid-page loses only the pages it had not
// committed: once -rescue-after has passed, River gives its jobs to
// another worker, which resumes each partition at its checkpoint. Ctrl-C
// or SIGTERM stops a worker after the pages being committed and puts its
// jobs back in the queue. See docs/scale-out.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// config is what the flags set; the tests fill it directly.
type config struct {
	// Flags are the flags every sync shares that apply to a worker: -url
	// (the API's base URL), -db (without -postgres), -postgres (River's
	// and the tables' database, shared by every worker), -timeout,
	// -restart and -v (a line for every job).
	console.Flags
	Schema string // PostgreSQL schema of River's tables and the synced tables

	Enqueue  bool          // insert a sync of every stream
	Work     bool          // work the jobs until stopped
	Schedule time.Duration // insert a sync every Schedule (the leader does)
	UI       string        // address to serve River's UI on, such as 127.0.0.1:8080

	ID          string        // the worker's name, in River and in each request's User-Agent
	InFlight    int           // requests in flight at once in this process
	Jobs        int           // partitions run at once in this process
	JobTimeout  time.Duration // longest run of one job before it goes on in a new one
	RescueAfter time.Duration // when a dead worker's jobs go to another worker
	OrdersPage  int           // orders a page

	once bool // enqueue a sync, work it, and return once it is done

	Mock  mockapi.Config // the in-process mock API, when URL is empty
	Retry paginate.Retry // the retry policy of each page; the zero value is sane
}

func main() {
	cfg := config{Flags: console.Flags{DB: "workers.db", Timeout: strategies.DefaultHeaderTimeout}, Mock: mockapi.Config{Records: 200}}
	fs := flag.NewFlagSet("workers", flag.ExitOnError)
	cfg.Register(fs, console.FlagURL|console.FlagDB|console.FlagPostgres|console.FlagTimeout|console.FlagRestart|console.FlagVerbose)
	fs.Lookup("url").Usage = "the API's base `URL`, such as http://127.0.0.1:5001 (default: an in-process mock API)"
	fs.Lookup("postgres").Usage = "PostgreSQL `DSN` of the database every worker shares: River's jobs and the tables (instead of -db)"
	fs.Lookup("v").Usage = "a line for every job that ends, instead of a status line on a terminal"
	fs.StringVar(&cfg.Schema, "schema", "", "PostgreSQL schema of River's tables and the synced tables (default: the first of the search path)")
	fs.BoolVar(&cfg.Enqueue, "enqueue", false, "put a sync of every stream in the queue")
	fs.BoolVar(&cfg.Work, "work", false, "work the queue's jobs until stopped")
	fs.DurationVar(&cfg.Schedule, "schedule", 0, "also sync every `interval`, such as 5m; give every worker the same")
	fs.StringVar(&cfg.UI, "ui", "", "serve River's web UI on this loopback `address`, such as 127.0.0.1:8080")
	fs.StringVar(&cfg.ID, "id", "", "this worker's `name`, shown by River and sent in each request's User-Agent (default: host and pid)")
	fs.IntVar(&cfg.InFlight, "in-flight", 16, "requests in flight at once in this process")
	fs.IntVar(&cfg.Jobs, "jobs", 0, "partitions this process runs at once (default: twice -in-flight)")
	fs.DurationVar(&cfg.JobTimeout, "job-timeout", 10*time.Minute, "a job running longer stops after its page and goes on at once in a new job, from its checkpoint")
	fs.DurationVar(&cfg.RescueAfter, "rescue-after", 11*time.Minute, "a job of a dead worker goes to another worker once it has run this long (at least -job-timeout)")
	fs.IntVar(&cfg.OrdersPage, "orders-per-page", 50, "orders a page")
	cfg.Mock.RegisterFlags(fs)
	fs.Parse(os.Args[1:])

	// Ctrl-C or SIGTERM cancels ctx: the jobs stop after the pages being
	// committed and go back to the queue, for this or another worker.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, cfg, os.Stdout, os.Stderr)
	if errors.Is(err, context.Canceled) && cfg.Work {
		os.Exit(console.ExitCode(err)) // the worker has said that it drained and stopped
	}
	os.Exit(console.Report(os.Stderr, "workers", err))
}

// run does what cfg says: everything in one process on SQLite, or this
// process's part of a queue shared through PostgreSQL.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if cfg.Jobs <= 0 {
		// Enough partitions to keep the requests in flight busy while
		// some commit, and few enough not to hold back partitions that
		// idle workers could run.
		cfg.Jobs = 2 * max(cfg.InFlight, 1)
	}
	if !cfg.Enqueue && !cfg.Work && cfg.UI == "" {
		if cfg.Postgres != "" {
			return errors.New("say what this process does: -enqueue, -work, -ui, or several")
		}
		// One process, one sync, on SQLite: enqueue it, work it, and
		// exit once it is done.
		cfg.Enqueue, cfg.Work, cfg.once = true, true, cfg.Schedule == 0
	}

	// The API: the one at -url, or the mock API served from this process.
	// Workers that each start their own mock see the same data: it is a
	// function of its flags.
	base := strings.TrimSuffix(cfg.URL, "/")
	if base == "" && cfg.Work {
		srv, err := mockapi.Start(cfg.Mock)
		if err != nil {
			return err
		}
		defer srv.Close()
		base = srv.URL
		fmt.Fprintf(stderr, "mock API with %d users at %s\n", srv.Len(), base)
	}
	if cfg.Postgres == "" {
		return runSQLite(ctx, cfg, base, stdout, stderr)
	}
	return runPostgres(ctx, cfg, base, stdout, stderr)
}
