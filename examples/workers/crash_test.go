package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// workerArgs are the flags every worker of the process tests gets: a
// short job timeout and rescue time, so that a killed worker's jobs are
// rescued within the test (at the leader's next rescue, every 30 s).
func workerArgs(a *api, extra ...string) []string {
	return append([]string{"-url", a.URL, "-work", "-in-flight", "4", "-jobs", "4",
		"-job-timeout", "3s", "-rescue-after", "4s", "-orders-per-page", ordersPerPage}, extra...)
}

// TestWorkersPostgres runs a sync on three worker processes sharing one
// PostgreSQL database, and kills one with SIGKILL in the middle of a page
// three times, starting a new one each time. At the end every job has
// completed, but the partition the API refuses with 401, which is
// cancelled with its error; the tables hold the API's data, no row was
// written twice, and no partition ran in two workers at once.
func TestWorkersPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgDSN(t)
	bin := binary(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	nsp := fmt.Sprintf("examples_workers_%d_%d", os.Getpid(), rand.Uint32())
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+nsp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), "DROP SCHEMA "+nsp+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	table := func(name string) string { return nsp + "." + name }

	a := newAPI(t, testData)
	bad := a.Records()[7].ID
	a.refuse(mockapi.OrdersPath(bad), http.StatusUnauthorized)
	args := workerArgs(a, "-postgres", dsn, "-schema", nsp)
	w1 := startWorker(t, bin, "w1", args...)
	w2 := startWorker(t, bin, "w2", args...)

	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { db.Close() })
	waitTables(t, func() (bool, error) {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('users', 'orders', 'events')`, nsp).Scan(&n)
		return n == 3, err
	})
	if _, err := db.Exec(`CREATE TABLE ` + table("writes") + ` (tbl text, id text);
		CREATE FUNCTION ` + table("count_write") + `() RETURNS trigger LANGUAGE plpgsql AS
			$$ BEGIN INSERT INTO ` + table("writes") + ` VALUES (TG_TABLE_NAME, NEW.id); RETURN NEW; END $$;
		CREATE TRIGGER w AFTER INSERT OR UPDATE ON ` + table("users") + ` FOR EACH ROW EXECUTE FUNCTION ` + table("count_write") + `();
		CREATE TRIGGER w AFTER INSERT OR UPDATE ON ` + table("orders") + ` FOR EACH ROW EXECUTE FUNCTION ` + table("count_write") + `();
		CREATE TRIGGER w AFTER INSERT OR UPDATE ON ` + table("events") + ` FOR EACH ROW EXECUTE FUNCTION ` + table("count_write") + `();`); err != nil {
		t.Fatal(err)
	}

	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: nsp})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.InsertMany(ctx, syncJobs); err != nil {
		t.Fatal(err)
	}
	// The victim starts once the orders' partitions are all in the
	// queue, so that it is killed in partitions, whose rows are written
	// once, and not in the list.
	waitJob(t, client, riverjob.KindList, time.Minute)
	k := &killer{t: t, kills: 3, after: 3, armed: func() bool { return true },
		start: func(id string) *proc { return startWorker(t, bin, id, args...) }}
	k.attach(a)

	jobs := waitJobs(t, client, len(syncJobs)-1+testData.Records, 2*time.Minute)
	if n := k.count(); n < k.kills {
		t.Errorf("the victim was killed %d times, want %d: the sync ended first", n, k.kills)
	}
	checkJobs(t, jobs, bad, true)
	checkTables(t, db, table, a, bad)
	a.checkOneWorkerAtATime(t)
	for _, w := range []*proc{w1, w2, k.victim} {
		w.stop(t)
	}
}

// TestWorkerSQLite is TestWorkersPostgres with one worker process on
// SQLite: killed with SIGKILL in the middle of a page three times and
// started again each time, it rescues its own jobs once it is River's
// leader again.
func TestWorkerSQLite(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shop.db")
	a := newAPI(t, testData)
	bad := a.Records()[7].ID
	a.refuse(mockapi.OrdersPath(bad), http.StatusUnauthorized)
	args := workerArgs(a, "-db", path)
	var listed atomic.Bool
	k := &killer{t: t, kills: 3, after: 3, armed: listed.Load,
		start: func(id string) *proc { return startWorker(t, bin, id, args...) }}
	k.attach(a)

	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	waitTables(t, func() (bool, error) {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'orders', 'events')`).Scan(&n)
		return n == 3, err
	})
	for _, q := range []string{`CREATE TABLE writes (tbl TEXT, id TEXT)`,
		`CREATE TRIGGER wui AFTER INSERT ON users BEGIN INSERT INTO writes VALUES ('users', NEW.id); END`,
		`CREATE TRIGGER wuu AFTER UPDATE ON users BEGIN INSERT INTO writes VALUES ('users', NEW.id); END`,
		`CREATE TRIGGER woi AFTER INSERT ON orders BEGIN INSERT INTO writes VALUES ('orders', NEW.id); END`,
		`CREATE TRIGGER wou AFTER UPDATE ON orders BEGIN INSERT INTO writes VALUES ('orders', NEW.id); END`,
		`CREATE TRIGGER wei AFTER INSERT ON events BEGIN INSERT INTO writes VALUES ('events', NEW.id); END`,
		`CREATE TRIGGER weu AFTER UPDATE ON events BEGIN INSERT INTO writes VALUES ('events', NEW.id); END`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	client, err := river.NewClient(riversqlite.New(db), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.InsertMany(ctx, syncJobs); err != nil {
		t.Fatal(err)
	}
	waitJob(t, client, riverjob.KindList, time.Minute)
	listed.Store(true)

	jobs := waitJobs(t, client, len(syncJobs)-1+testData.Records, 2*time.Minute)
	if n := k.count(); n < k.kills {
		t.Errorf("the worker was killed %d times, want %d: the sync ended first", n, k.kills)
	}
	checkJobs(t, jobs, bad, true)
	checkTables(t, db, func(name string) string { return name }, a, bad)
	a.checkOneWorkerAtATime(t)
	k.victim.stop(t)
	// On SIGTERM the worker says that it stops, and that it drained.
	out := k.victim.out.String()
	for _, want := range []string{": stopping: the running jobs stop after the pages being committed", ": drained and stopped; "} {
		if !strings.Contains(out, want) {
			t.Errorf("the worker's output lacks %q:\n%s", want, out)
		}
	}
}

// TestWorkerLines: one process on SQLite, not on a terminal, says what
// it does: a line for every job that ends, then the summary.
func TestWorkerLines(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	a := newAPI(t, mockapi.Config{Records: 20, Seed: 3})
	w := startWorker(t, bin, "solo", "-db", filepath.Join(t.TempDir(), "shop.db"), "-url", a.URL)
	select {
	case <-w.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the sync did not end within 2 minutes")
	}
	out := w.out.String()
	if n := strings.Count(out, "): completed, attempt 1"); n != len(syncJobs)+20 {
		t.Errorf("%d lines of completed jobs, want %d:\n%s", n, len(syncJobs)+20, out)
	}
	for _, want := range []string{"(users): completed", "(orders, the list of its parents): completed", "(events): completed",
		"(orders " + a.Records()[0].ID + "): completed", "Jobs:", "worker solo: drained and stopped; 23 jobs completed in"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
}
