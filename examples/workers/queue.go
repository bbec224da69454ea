package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// runSQLite runs everything in this process: River's jobs and the tables
// in one SQLite file.
func runSQLite(ctx context.Context, cfg config, base string, stdout, stderr io.Writer) error {
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := riverjob.MigrateSQLite(ctx, db); err != nil {
		return err
	}
	dst, err := openSQLite(ctx, db)
	if err != nil {
		return err
	}
	defer dst.Close()
	c, err := shop(base, dst, cfg)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, riversqlite.New(db), c, db, stdout, stderr)
}

// runPostgres runs this process's part of a queue that every worker shares
// through one PostgreSQL database, which also holds the tables.
func runPostgres(ctx context.Context, cfg config, base string, stdout, stderr io.Writer) error {
	pcfg, err := pgxpool.ParseConfig(cfg.Postgres)
	if err != nil {
		return err
	}
	if !strings.Contains(cfg.Postgres, "pool_max_conns") {
		// Each table's sink holds a connection; River needs several
		// more (the default is 4 on a machine of up to 4 cores).
		pcfg.MaxConns = max(pcfg.MaxConns, 16)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.Schema != "" {
		if _, err := pool.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{cfg.Schema}.Sanitize()); err != nil {
			return err
		}
	}
	// Every worker migrates at start; riverjob serialises them.
	if err := riverjob.MigratePostgres(ctx, pool, cfg.Schema); err != nil {
		return err
	}
	dst, err := openPostgres(ctx, pool, cfg.Schema)
	if err != nil {
		return err
	}
	defer dst.Close()
	c, err := shop(base, dst, cfg)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, riverpgxv5.New(pool), c, nil, stdout, stderr)
}

// serve is this process's part of the queue, on a River client of driver:
// it works the jobs, serves the UI and enqueues a sync, as cfg says. db,
// when not nil, holds the tables, for the summary of a one-process sync.
func serve[TTx any](ctx context.Context, cfg config, driver riverdriver.Driver[TTx], c *connector.Connector, db *sql.DB, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	jobs, err := riverjob.New[TTx](riverjob.Config{Connectors: map[string]*connector.Connector{"shop": c}, Logger: logger})
	if err != nil {
		return err
	}
	rcfg := &river.Config{
		ID:     cfg.ID,
		Schema: cfg.Schema,
		Logger: logger,
		// A job that runs longer stops after its page and goes on at
		// once in a new job; a dead worker's job goes to another worker
		// once it has run RescueStuckJobsAfter.
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// A job starts within milliseconds of its insert; River's
		// default waits up to 100 ms between fetches.
		FetchCooldown: 5 * time.Millisecond,
	}
	if cfg.Postgres == "" {
		// SQLite has no LISTEN: River looks for new jobs every 50 ms
		// and every FetchPollInterval. A query every 10 ms of an idle
		// worker costs next to nothing on a local file.
		rcfg.FetchPollInterval = 10 * time.Millisecond
	}
	if cfg.Schedule > 0 && !cfg.Work {
		return errors.New("-schedule needs -work: the worker elected leader inserts the periodic syncs")
	}
	if cfg.Work {
		workers := river.NewWorkers()
		if err := jobs.AddWorkers(workers); err != nil {
			return err
		}
		rcfg.Workers = workers
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Jobs}}
		if cfg.Schedule > 0 {
			if rcfg.PeriodicJobs, err = jobs.PeriodicJobs("shop", cfg.Schedule); err != nil {
				return err
			}
		}
	}
	client, err := river.NewClient(driver, rcfg)
	if err != nil {
		return err
	}
	if cfg.Work {
		stopReport := report(client, stderr, cfg.Verbose)
		defer stopReport()
		if err := client.Start(ctx); err != nil {
			return err
		}
		defer func() {
			// The jobs stop after the pages being committed and go
			// back to the queue without using up an attempt.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			client.StopAndCancel(sctx)
		}()
		fmt.Fprintf(stderr, "worker %s: %d partitions at once, %d requests in flight\n", cfg.ID, cfg.Jobs, cfg.InFlight)
	}
	if cfg.UI != "" {
		stopUI, err := serveUI(ctx, cfg.UI, client, logger, stderr)
		if err != nil {
			return err
		}
		defer stopUI()
	}
	if cfg.Enqueue {
		if err := enqueue(ctx, jobs, client, stderr); err != nil {
			return err
		}
	}
	if cfg.once {
		// One process, one sync: wait for its jobs, then report.
		if err := waitIdle(ctx, client); err != nil {
			return err
		}
		return summary(ctx, client, db, stdout)
	}
	if cfg.Work || cfg.UI != "" {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// enqueue inserts a sync of every stream.
func enqueue[TTx any](ctx context.Context, jobs *riverjob.Jobs[TTx], client *river.Client[TTx], w io.Writer) error {
	res, err := jobs.Enqueue(ctx, client, "shop")
	if err != nil {
		return err
	}
	for _, r := range res {
		what := "enqueued"
		if r.UniqueSkippedAsDuplicate {
			what = "already queued or running"
		}
		fmt.Fprintf(w, "%s: job %d, %s %s\n", what, r.Job.ID, r.Job.Kind, r.Job.EncodedArgs)
	}
	return nil
}

// report prints a line for each job that fails, is cancelled, or, when
// verbose, completes, until the returned function is called.
func report[TTx any](client *river.Client[TTx], w io.Writer, verbose bool) (stop func()) {
	kinds := []river.EventKind{river.EventKindJobFailed, river.EventKindJobCancelled}
	if verbose {
		kinds = append(kinds, river.EventKindJobCompleted, river.EventKindJobSnoozed)
	}
	events, cancel := client.Subscribe(kinds...)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case <-done:
				return
			case e, ok := <-events:
				if !ok {
					return
				}
				line := fmt.Sprintf("job %d %s %s: %s, attempt %d", e.Job.ID, e.Job.Kind, e.Job.EncodedArgs, e.Kind, e.Job.Attempt)
				if n := len(e.Job.Errors); n > 0 {
					line += ": " + e.Job.Errors[n-1].Error
				}
				fmt.Fprintln(w, line)
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		cancel()
	}
}

var unfinished = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}

// waitIdle waits until no job is queued or running.
func waitIdle[TTx any](ctx context.Context, client *river.Client[TTx]) error {
	for {
		res, err := client.JobList(ctx, river.NewJobListParams().States(unfinished...).First(1))
		if err != nil {
			return err
		}
		if len(res.Jobs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// summary prints the jobs by kind and state and the tables' row counts,
// and fails when a job did not complete.
func summary[TTx any](ctx context.Context, client *river.Client[TTx], db *sql.DB, w io.Writer) error {
	counts := make(map[string]int)
	var kinds []string
	notDone := 0
	params := river.NewJobListParams().First(1000)
	for {
		res, err := client.JobList(ctx, params)
		if err != nil {
			return err
		}
		for _, j := range res.Jobs {
			k := j.Kind + " " + string(j.State)
			if counts[k] == 0 {
				kinds = append(kinds, k)
			}
			counts[k]++
			if j.State != rivertype.JobStateCompleted {
				notDone++
			}
		}
		if len(res.Jobs) < 1000 {
			break
		}
		params = params.After(res.LastCursor)
	}
	fmt.Fprintln(w, "Jobs:")
	for _, k := range kinds {
		fmt.Fprintf(w, "  %-32s %d\n", k, counts[k])
	}
	err := console.Table(ctx, w, db, "Tables:",
		`SELECT 'users' AS "table", count(*) AS "rows" FROM users UNION ALL SELECT 'orders', count(*) FROM orders UNION ALL SELECT 'events', count(*) FROM events`)
	if notDone > 0 {
		err = errors.Join(err, fmt.Errorf("%d jobs did not complete", notDone))
	}
	return err
}
