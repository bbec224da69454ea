package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// workersRows measures syncs run as River jobs (package riverjob): one
// sync on one worker process and on three (examples/workers, built and
// run as a user runs it) sharing one PostgreSQL database, and what the
// queue adds to a partition of one page over running it directly.
func workersRows(ctx context.Context, cfg config) ([]row, error) {
	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	var out []row
	if dsn == "" {
		out = append(out, row{name: "workers: 3 processes against 1", measured: "skipped", detail: "set PAGEKIT_POSTGRES_DSN to measure"})
	} else {
		r, err := workerScaling(ctx, cfg, dsn)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	r, err := queueOverheadSQLite(ctx, cfg)
	if err != nil {
		return nil, err
	}
	out = append(out, r)
	if dsn != "" {
		r, err := queueOverheadPostgres(ctx, cfg, dsn)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// workerScaling syncs partitions of pages at the bench's latency on one
// worker process and on three, each allowed 4 requests in flight, in
// alternating rounds, and compares the median wall times, from the insert
// of the sync to its last job's completion.
func workerScaling(ctx context.Context, cfg config, dsn string) (row, error) {
	const perPage = 10
	partitions, pages, rounds := 60, 20, 3
	if cfg.quick {
		partitions, pages, rounds = 6, 2, 1
	}
	dir, err := os.MkdirTemp("", "pagekit-bench-workers-")
	if err != nil {
		return row{}, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "workers")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/workers").CombinedOutput(); err != nil {
		return row{}, fmt.Errorf("build examples/workers (run the bench from the repository): %v\n%s", err, out)
	}
	ts := httptest.NewServer(mockapi.New(mockapi.Config{Records: partitions, Seed: 9, OrdersPerUser: pages * perPage,
		Events: 10, Latency: cfg.latency}))
	defer ts.Close()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return row{}, err
	}
	defer pool.Close()
	walls := map[int][]time.Duration{}
	for range rounds {
		for _, n := range []int{1, 3} {
			d, err := timeWorkers(ctx, bin, pool, dsn, ts.URL, n, partitions, perPage)
			if err != nil {
				return row{}, err
			}
			walls[n] = append(walls[n], d)
		}
	}
	one, three := median(walls[1]), median(walls[3])
	ratio := float64(three) / float64(one)
	return row{
		name:     fmt.Sprintf("workers: %d partitions x %d pages at %v, 4 in flight a process", partitions, pages, cfg.latency),
		measured: fmt.Sprintf("3 processes take %.2fx the time of 1", ratio),
		target:   "<= 0.40x",
		ok:       ratio <= 0.4,
		detail: fmt.Sprintf("1 process %v, 3 processes %v (medians of %d rounds); ideal 1 process %v", one.Round(time.Millisecond),
			three.Round(time.Millisecond), rounds, (time.Duration(partitions*pages) * cfg.latency / 4).Round(time.Millisecond)),
	}, nil
}

// timeWorkers starts n worker processes on a schema of their own, inserts
// a sync, and returns the time from the insert to the completion of its
// last job.
func timeWorkers(ctx context.Context, bin string, pool *pgxpool.Pool, dsn, url string, n, partitions, perPage int) (time.Duration, error) {
	nsp := fmt.Sprintf("pagekit_bench_workers_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+nsp); err != nil {
		return 0, err
	}
	defer pool.Exec(context.WithoutCancel(ctx), "DROP SCHEMA "+nsp+" CASCADE")
	var procs []*worker
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i := range n {
		p, err := startBenchWorker(ctx, bin, fmt.Sprintf("bench-%d", i+1), "-postgres", dsn, "-schema", nsp, "-url", url,
			"-work", "-in-flight", "4", "-orders-per-page", fmt.Sprint(perPage))
		if err != nil {
			return 0, err
		}
		procs = append(procs, p)
	}
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: nsp})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := client.InsertMany(ctx, []river.InsertManyParams{
		{Args: riverjob.PartitionArgs{Connector: "shop", Stream: "users"}},
		{Args: riverjob.ListArgs{Connector: "shop", Stream: "orders"}},
		{Args: riverjob.PartitionArgs{Connector: "shop", Stream: "events"}},
	}); err != nil {
		return 0, err
	}
	want := partitions + 3
	for {
		var done, total int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE finalized_at IS NOT NULL), count(*) FROM `+nsp+`.river_job`).Scan(&done, &total); err != nil {
			return 0, err
		}
		if done == want && total == want {
			break
		}
		if time.Since(start) > 5*time.Minute {
			return 0, fmt.Errorf("%d worker(s): %d of %d jobs done after 5 minutes", n, done, total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var last time.Time
	var notDone int
	if err := pool.QueryRow(ctx, `SELECT max(finalized_at), count(*) FILTER (WHERE state <> 'completed') FROM `+nsp+`.river_job`).Scan(&last, &notDone); err != nil {
		return 0, err
	}
	if notDone > 0 {
		return 0, fmt.Errorf("%d worker(s): %d jobs did not complete", n, notDone)
	}
	return last.Sub(start), nil
}

// worker is a worker process of the bench.
type worker struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// startBenchWorker starts a worker process and waits until it works.
func startBenchWorker(ctx context.Context, bin, id string, args ...string) (*worker, error) {
	w := &worker{out: &lockedBuffer{}, done: make(chan struct{})}
	w.cmd = exec.CommandContext(ctx, bin, append(args, "-id", id)...)
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := w.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		w.cmd.Wait()
		close(w.done)
	}()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(w.out.String(), "worker "+id+":") {
		select {
		case <-w.done:
			return nil, fmt.Errorf("worker %s exited:\n%s", id, w.out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			w.stop()
			return nil, fmt.Errorf("worker %s not working after a minute:\n%s", id, w.out.String())
		}
	}
	return w, nil
}

// stop stops the worker with SIGTERM, or SIGKILL after 30 seconds.
func (w *worker) stop() {
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		w.cmd.Process.Kill()
		<-w.done
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// queueOverheadSQLite is queueOverhead on SQLite: River and the table in
// one file.
func queueOverheadSQLite(ctx context.Context, cfg config) (row, error) {
	dir, err := os.MkdirTemp("", "pagekit-bench-queue-")
	if err != nil {
		return row{}, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "queue.db"))
	if err != nil {
		return row{}, err
	}
	defer db.Close()
	if err := riverjob.MigrateSQLite(ctx, db); err != nil {
		return row{}, err
	}
	s, err := sqlite.New(ctx, db, schema.Must(schema.Derive[mockapi.User]("users", "id")), sqlite.Config[mockapi.User]{})
	if err != nil {
		return row{}, err
	}
	defer s.Close()
	// As examples/workers does on SQLite, which has no LISTEN: poll for
	// jobs every 10 ms.
	return queueOverhead(ctx, cfg, "SQLite", riversqlite.New(db), "", 10*time.Millisecond, riverjob.Completing(s))
}

// queueOverheadPostgres is queueOverhead on PostgreSQL, in a schema of its
// own.
func queueOverheadPostgres(ctx context.Context, cfg config, dsn string) (row, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return row{}, err
	}
	pcfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return row{}, err
	}
	defer pool.Close()
	nsp := fmt.Sprintf("pagekit_bench_queue_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+nsp); err != nil {
		return row{}, err
	}
	defer pool.Exec(context.WithoutCancel(ctx), "DROP SCHEMA "+nsp+" CASCADE")
	if err := riverjob.MigratePostgres(ctx, pool, nsp); err != nil {
		return row{}, err
	}
	s, err := postgres.New(ctx, pool, schema.Must(schema.Derive[mockapi.User]("users", "id")), postgres.Config[mockapi.User]{Schema: nsp})
	if err != nil {
		return row{}, err
	}
	defer s.Close()
	return queueOverhead(ctx, cfg, "PostgreSQL", riverpgxv5.New(pool), nsp, 0, riverjob.Completing(s))
}

// queueOverhead runs a partition of one page (10 users, no latency) into
// dst, in turn directly (Connector.RunPartition) and as a River job on a
// client configured as examples/workers configures its own (poll: its
// FetchPollInterval, zero for River's default), and compares
// the medians: a direct run's wall time against the time from the job's
// insert to its completion, in the transaction of the partition's page.
func queueOverhead[TTx any](ctx context.Context, cfg config, name string, driver riverdriver.Driver[TTx], nsp string, poll time.Duration, dst paginate.Sink[mockapi.User]) (row, error) {
	runs := 50
	if cfg.quick {
		runs = 5
	}
	ts := httptest.NewServer(mockapi.New(mockapi.Config{Records: 10, Seed: 2}))
	defer ts.Close()
	c, err := connector.New(connector.Config{}, connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: ts.URL + mockapi.PathPageNumber, Query: seedQuery()},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}, dst, paginate.Options[mockapi.User]{}))
	if err != nil {
		return row{}, err
	}
	jobs, err := riverjob.New[TTx](riverjob.Config{Connectors: map[string]*connector.Connector{"bench": c}})
	if err != nil {
		return row{}, err
	}
	workers := river.NewWorkers()
	if err := jobs.AddWorkers(workers); err != nil {
		return row{}, err
	}
	client, err := river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:           workers,
		Schema:            nsp,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: poll,
	})
	if err != nil {
		return row{}, err
	}
	if err := client.Start(ctx); err != nil {
		return row{}, err
	}
	defer client.Stop(context.WithoutCancel(ctx))
	var direct, queued []time.Duration
	for range runs {
		start := time.Now()
		if _, err := c.RunPartition(ctx, connector.Partition{Stream: "users"}); err != nil {
			return row{}, err
		}
		direct = append(direct, time.Since(start))
		d, err := timeJob(ctx, client)
		if err != nil {
			return row{}, err
		}
		queued = append(queued, d)
	}
	q, d := median(queued), median(direct)
	over := q - d
	return row{
		name:     "workers: a one-page partition through the queue (" + name + ")",
		measured: fmt.Sprintf("+%v over a direct run", over.Round(100*time.Microsecond)),
		target:   "<= 20ms",
		ok:       over <= 20*time.Millisecond,
		detail: fmt.Sprintf("median %v from insert to completed, %v direct; %d runs each", q.Round(100*time.Microsecond),
			d.Round(100*time.Microsecond), runs),
	}, nil
}

// timeJob inserts the partition's job and returns the time from the
// insert to the job's completion, as the job's row records it.
func timeJob[TTx any](ctx context.Context, client *river.Client[TTx]) (time.Duration, error) {
	start := time.Now()
	res, err := client.Insert(ctx, riverjob.PartitionArgs{Connector: "bench", Stream: "users"}, nil)
	if err != nil {
		return 0, err
	}
	for {
		j, err := client.JobGet(ctx, res.Job.ID)
		if err != nil {
			return 0, err
		}
		switch {
		case j.State == rivertype.JobStateCompleted && j.FinalizedAt != nil:
			return j.FinalizedAt.Sub(start), nil
		case j.FinalizedAt != nil:
			return 0, fmt.Errorf("job %d: %s: %v", j.ID, j.State, j.Errors)
		case time.Since(start) > time.Minute:
			return 0, fmt.Errorf("job %d: %s after a minute", j.ID, j.State)
		}
		time.Sleep(time.Millisecond)
	}
}
