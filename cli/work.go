package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/spec"
)

// workFlags are pagekit work's flags.
type workFlags struct {
	console.Flags
	Schema      string
	Every       time.Duration
	Enqueue     bool
	Jobs        int
	JobTimeout  time.Duration
	RescueAfter time.Duration
}

// workCmd is pagekit work SPEC -postgres DSN: this process's share of
// the spec's syncs as River jobs, on a PostgreSQL database that every
// worker shares and that holds the tables.
func workCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("work", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := workFlags{Jobs: 8, JobTimeout: 10 * time.Minute, RescueAfter: 11 * time.Minute}
	f.Register(fs, console.FlagPostgres|console.FlagTimeout|console.FlagRestart|console.FlagVerbose)
	fs.Lookup("restart").Usage = "when a stream's settings in the spec changed since its checkpoint (another page size, URL...), start it over from its last completed sync instead of stopping"
	fs.Lookup("postgres").Usage = "PostgreSQL `DSN` of the database every worker shares: River's jobs and the tables (required)"
	fs.StringVar(&f.Schema, "schema", "", "PostgreSQL `schema` of River's tables and the synced tables (default: the first of the search path)")
	fs.DurationVar(&f.Every, "every", 0, "insert a sync of every stream each `interval`, such as 1h (the worker elected leader does); 0: none")
	fs.BoolVar(&f.Enqueue, "enqueue", false, "insert a sync of every stream now")
	fs.IntVar(&f.Jobs, "jobs", f.Jobs, "partitions this worker runs at once")
	fs.DurationVar(&f.JobTimeout, "job-timeout", f.JobTimeout, "longest run of one job before it goes on in a new one")
	fs.DurationVar(&f.RescueAfter, "rescue-after", f.RescueAfter, "when a dead worker's jobs go to another worker (not less than -job-timeout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagekit work SPEC -postgres DSN [-every 1h] [-enqueue]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, 1, "one spec file")
	if err != nil {
		return 2
	}
	if f.Postgres == "" {
		fmt.Fprintln(stderr, "pagekit work: -postgres is required: the database every worker shares")
		return 2
	}
	err = work(ctx, pos[0], f, stderr)
	if errors.Is(err, context.Canceled) {
		err = nil // stopped by Ctrl-C or SIGTERM, after the jobs drained
	}
	return console.Report(stderr, "pagekit", err)
}

// work runs this worker until ctx is done.
func work(ctx context.Context, file string, f workFlags, stderr io.Writer) error {
	sp, err := spec.Load(file)
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	pcfg, err := pgxpool.ParseConfig(f.Postgres)
	if err != nil {
		return fmt.Errorf("-postgres: %w", err)
	}
	if !strings.Contains(f.Postgres, "pool_max_conns") {
		// Each table's sink holds a connection; River needs several.
		pcfg.MaxConns = max(pcfg.MaxConns, int32(len(sp.Streams)+8))
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if f.Schema != "" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{f.Schema}.Sanitize()); err != nil {
			return err
		}
	}
	// Every worker migrates at start; riverjob serialises them.
	if err := riverjob.MigratePostgres(ctx, pool, f.Schema); err != nil {
		return err
	}
	status := console.NewStatus(stderr, f.Verbose)
	defer status.Close()
	logger := slog.New(slog.NewTextHandler(status, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dest := &postgresDest{pool: pool, schema: f.Schema}
	b, err := sp.Build(ctx, dest, spec.Settings{Restart: f.Restart, Timeout: f.Timeout, Logger: logger})
	if err != nil {
		return err
	}
	defer b.Close()
	jobs, err := riverjob.New[pgx.Tx](riverjob.Config{Connectors: map[string]*connector.Connector{name: b.Connector}, Logger: logger})
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	if err := jobs.AddWorkers(workers); err != nil {
		return err
	}
	rcfg := &river.Config{
		Schema:               f.Schema,
		Logger:               logger,
		Workers:              workers,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: f.Jobs}},
		JobTimeout:           f.JobTimeout,
		RescueStuckJobsAfter: f.RescueAfter,
		FetchCooldown:        5 * time.Millisecond,
	}
	if f.Every > 0 {
		if rcfg.PeriodicJobs, err = jobs.PeriodicJobs(name, f.Every); err != nil {
			return err
		}
	}
	client, err := river.NewClient(riverpgxv5.New(pool), rcfg)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	done, _ := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	schedule := "no scheduled sync (-every)"
	if f.Every > 0 {
		schedule = fmt.Sprintf("a sync every %v", f.Every)
	}
	status.Print(fmt.Sprintf("pagekit work: %s: %d streams, %d partitions at once; %s", name, len(b.Streams()), f.Jobs, schedule))
	if f.Enqueue {
		res, err := jobs.Enqueue(ctx, client, name)
		if err != nil {
			return err
		}
		status.Print(fmt.Sprintf("pagekit work: enqueued a sync of %d streams", len(res)))
	}
	var completed, failed int
	for {
		select {
		case e := <-done:
			if e == nil {
				continue
			}
			if e.Kind == river.EventKindJobCompleted {
				completed++
			} else {
				failed++
			}
			if f.Verbose || e.Kind != river.EventKindJobCompleted {
				status.Print(fmt.Sprintf("job %d %s: %s", e.Job.ID, e.Job.Kind, e.Kind))
			}
			status.Set(fmt.Sprintf("%d jobs done, %d failed", completed, failed))
		case <-ctx.Done():
			status.Print("pagekit work: stopping: the running jobs stop after the pages being committed and go back to the queue")
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := client.StopAndCancel(sctx); err != nil {
				return fmt.Errorf("stopped before the jobs drained (River gives them to another worker after -rescue-after): %w", err)
			}
			status.Print(fmt.Sprintf("pagekit work: drained and stopped; %d jobs done, %d failed", completed, failed))
			return ctx.Err()
		}
	}
}
