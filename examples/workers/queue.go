package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
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
	// Everything this process says goes through one Status: on a
	// terminal, above its status line; and never two lines at once.
	status := console.NewStatus(stderr, cfg.Verbose)
	defer status.Close()
	logger := slog.New(slog.NewTextHandler(status, &slog.HandlerOptions{Level: slog.LevelWarn}))
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
	var rep *reporter
	if cfg.Work {
		rep = report(client, status, cfg.ID)
		if err := client.Start(ctx); err != nil {
			rep.stop()
			return err
		}
		defer func() {
			// The jobs stop after the pages being committed and go
			// back to the queue without using up an attempt.
			if ctx.Err() != nil {
				status.Print(fmt.Sprintf("worker %s: stopping: the running jobs stop after the pages being committed and go back to the queue", cfg.ID))
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			err := client.StopAndCancel(sctx)
			rep.stop()
			status.Close()
			if err != nil {
				status.Print(fmt.Sprintf("worker %s: stopped before its jobs drained (%v): River gives them to another worker once -rescue-after has passed", cfg.ID, err))
			} else {
				status.Print(fmt.Sprintf("worker %s: drained and stopped; %s", cfg.ID, rep.counts()))
			}
		}()
		status.Print(fmt.Sprintf("worker %s: %d partitions at once, %d requests in flight", cfg.ID, cfg.Jobs, cfg.InFlight))
	}
	if cfg.UI != "" {
		stopUI, err := serveUI(ctx, cfg.UI, client, logger, status)
		if err != nil {
			return err
		}
		defer stopUI()
	}
	if cfg.Enqueue {
		if err := enqueue(ctx, jobs, client, status); err != nil {
			return err
		}
	}
	if cfg.once {
		// One process, one sync: wait for its jobs, then report.
		if err := waitIdle(ctx, client); err != nil {
			return err
		}
		// The lines of the jobs' ends come first, then the summary.
		return summary(ctx, client, db, stdout, func(jobs int) {
			rep.await(jobs)
			rep.stop()
		})
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
		fmt.Fprintf(w, "%s: job %d (%s)\n", what, r.Job.ID, describeJob(r.Job))
	}
	return nil
}

// reporter says what the worker does: a line for each job that ends (on
// a terminal, without -v, only for those that did not complete, and a
// status line for the rest).
type reporter struct {
	status *console.Status
	id     string
	start  time.Time
	mu     sync.Mutex
	n      map[river.EventKind]int
	final  int // jobs seen finalized
	stop   func()
}

// report starts reporting the jobs' ends until stop is called.
func report[TTx any](client *river.Client[TTx], status *console.Status, id string) *reporter {
	r := &reporter{status: status, id: id, start: time.Now(), n: make(map[river.EventKind]int)}
	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed)
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
				r.job(e)
			}
		}
	}()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			close(done)
			<-exited
			cancel()
		})
	}
	return r
}

// job reports one job's end.
func (r *reporter) job(e *river.Event) {
	r.mu.Lock()
	r.n[e.Kind]++
	if e.Job.FinalizedAt != nil {
		r.final++
	}
	counts := r.countsLocked()
	r.mu.Unlock()
	line := fmt.Sprintf("job %d (%s): %s, attempt %d", e.Job.ID, describeJob(e.Job), ended[e.Kind], e.Job.Attempt)
	if e.JobStats != nil {
		line += fmt.Sprintf(", %v", e.JobStats.RunDuration.Round(time.Millisecond))
	}
	if n := len(e.Job.Errors); n > 0 && e.Kind != river.EventKindJobCompleted {
		line += ": " + e.Job.Errors[n-1].Error
	}
	if !r.status.Live() || e.Kind == river.EventKindJobFailed || e.Kind == river.EventKindJobCancelled {
		r.status.Print(line)
	}
	r.status.Set(fmt.Sprintf("worker %s: %s; last: job %d %s", r.id, counts, e.Job.ID, ended[e.Kind]))
}

// await waits, for a few seconds at most, until the ends of n jobs have
// been reported: River tells of them a moment after it has stored them.
func (r *reporter) await(n int) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		final := r.final
		r.mu.Unlock()
		if final >= n {
			return
		}
	}
}

// describeJob names what a job syncs: a stream, a partition of one, or
// the list of a child stream's parents.
func describeJob(j *rivertype.JobRow) string {
	var args struct{ Stream, Key string }
	if err := json.Unmarshal(j.EncodedArgs, &args); err != nil || args.Stream == "" {
		return j.Kind
	}
	switch {
	case j.Kind == (riverjob.ListArgs{}).Kind():
		return args.Stream + ", the list of its parents"
	case args.Key != "":
		return args.Stream + " " + args.Key
	}
	return args.Stream
}

// ended says in a word how a job ended.
var ended = map[river.EventKind]string{
	river.EventKindJobCompleted: "completed",
	river.EventKindJobFailed:    "failed (to be retried)",
	river.EventKindJobSnoozed:   "snoozed",
	river.EventKindJobCancelled: "cancelled",
}

// counts says how many jobs ended, and how.
func (r *reporter) counts() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.countsLocked() + " in " + time.Since(r.start).Round(100*time.Millisecond).String()
}

func (r *reporter) countsLocked() string {
	s := fmt.Sprintf("%d jobs completed", r.n[river.EventKindJobCompleted])
	for _, k := range []river.EventKind{river.EventKindJobFailed, river.EventKindJobSnoozed, river.EventKindJobCancelled} {
		if n := r.n[k]; n > 0 {
			s += fmt.Sprintf(", %d %s", n, ended[k])
		}
	}
	return s
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
// Before it prints, it lets the lines of the jobs' ends be printed: wait
// is called with the number of jobs.
func summary[TTx any](ctx context.Context, client *river.Client[TTx], db *sql.DB, w io.Writer, wait func(jobs int)) error {
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
	total := 0
	for _, n := range counts {
		total += n
	}
	wait(total)
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
