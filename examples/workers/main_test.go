package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
)

// binary builds the command once and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the command; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pagekit-workers")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "workers")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// The dataset of the process tests: 60 users of 100 orders, 10 pages of
// orders each, and 200 events, behind 20 ms a request.
var testData = mockapi.Config{Records: 60, Seed: 11, OrdersPerUser: 100, Events: 200, Latency: 20 * time.Millisecond}

const ordersPerPage = "10"

// request is one request the mock answered.
type request struct {
	path, worker string
	start, end   time.Time
}

// api is the mock API on 127.0.0.1 for worker processes: it logs each
// request with the worker that sent it (named in its User-Agent), answers
// the paths of status with their status, and calls before, when set,
// before serving a request. A request waits for the channel that hold,
// when set, returns for its worker, but at most maxHold; one whose client
// leaves meanwhile is neither served nor logged.
type api struct {
	*mockapi.Server
	URL string

	mu     sync.Mutex
	reqs   []request
	status map[string]int
	before func(worker, path string)
	hold   func(worker string) <-chan struct{}
}

// maxHold is the longest a request waits for hold's channel: well within
// the workers' -job-timeout, so that a held job never runs out of time
// before its first page.
const maxHold = time.Second

func newAPI(t *testing.T, cfg mockapi.Config) *api {
	a := &api{Server: mockapi.New(cfg), status: make(map[string]int)}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

// refuse makes the API answer path with status.
func (a *api) refuse(path string, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status[path] = status
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	worker, _ := strings.CutPrefix(r.UserAgent(), "pagekit-workers/")
	a.mu.Lock()
	before, hold, status := a.before, a.hold, a.status[r.URL.Path]
	a.mu.Unlock()
	if hold != nil {
		if ch := hold(worker); ch != nil {
			select {
			case <-ch:
			case <-time.After(maxHold):
			case <-r.Context().Done():
				return
			}
		}
	}
	if before != nil {
		before(worker, r.URL.Path)
	}
	req := request{path: r.URL.Path, worker: worker, start: time.Now()}
	if status != 0 {
		http.Error(w, `{"error":"refused by the test"}`, status)
	} else {
		a.Server.ServeHTTP(w, r)
	}
	req.end = time.Now()
	a.mu.Lock()
	a.reqs = append(a.reqs, req)
	a.mu.Unlock()
}

// checkOneWorkerAtATime fails the test when two workers fetched pages of
// one partition at once: for each partition's path, each worker's run (its
// requests, split where they pause for more than a second) must not
// overlap another worker's. The users' list is left out: the users stream
// and the orders' list both read it.
func (a *api) checkOneWorkerAtATime(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	type run struct {
		worker     string
		start, end time.Time
	}
	byPath := make(map[string][]request)
	for _, r := range a.reqs {
		if r.path != mockapi.PathPageNumber {
			byPath[r.path] = append(byPath[r.path], r)
		}
	}
	for path, reqs := range byPath {
		slices.SortFunc(reqs, func(x, y request) int { return x.start.Compare(y.start) })
		var runs []run
		last := make(map[string]int) // worker -> index in runs of its last run
		for _, r := range reqs {
			if i, ok := last[r.worker]; ok && r.start.Sub(runs[i].end) < time.Second {
				runs[i].end = maxTime(runs[i].end, r.end)
				continue
			}
			last[r.worker] = len(runs)
			runs = append(runs, run{r.worker, r.start, r.end})
		}
		for i, x := range runs {
			for _, y := range runs[i+1:] {
				if x.worker != y.worker && x.start.Before(y.end) && y.start.Before(x.end) {
					t.Errorf("%s: workers %s (%v to %v) and %s (%v to %v) ran it at once",
						path, x.worker, x.start.Format(time.StampMilli), x.end.Format(time.StampMilli),
						y.worker, y.start.Format(time.StampMilli), y.end.Format(time.StampMilli))
				}
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// proc is a worker process.
type proc struct {
	id   string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startWorker starts the command with args and -id id.
func startWorker(t *testing.T, bin, id string, args ...string) *proc {
	t.Helper()
	p := &proc{id: id, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, append(args, "-id", id)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		// Not t.Fatal: the killer starts workers from a handler's
		// goroutine.
		t.Errorf("start worker %s: %v", id, err)
		close(p.done)
		return p
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of worker %s:\n%s", id, p.out.String())
		}
	})
	return p
}

// kill kills the process with SIGKILL and waits for it to end.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop stops the process with SIGTERM and fails the test when it does not
// end within 30 seconds.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Errorf("worker %s did not stop within 30s of SIGTERM", p.id)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// syncJobs are the jobs of a sync of the example's connector "shop", as
// -enqueue inserts them.
var syncJobs = []river.InsertManyParams{
	{Args: riverjob.PartitionArgs{Connector: "shop", Stream: "users"}},
	{Args: riverjob.ListArgs{Connector: "shop", Stream: "orders"}},
	{Args: riverjob.PartitionArgs{Connector: "shop", Stream: "events"}},
}

var finalStates = []rivertype.JobState{rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded}

// waitJobs waits until the jobs are all finalized, and at least n of them,
// and returns them.
func waitJobs[TTx any](t *testing.T, client *river.Client[TTx], n int, timeout time.Duration) []*rivertype.JobRow {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res, err := client.JobList(context.Background(), river.NewJobListParams().First(10_000))
		if err != nil {
			t.Fatal(err)
		}
		done := len(res.Jobs) >= n
		for _, j := range res.Jobs {
			done = done && slices.Contains(finalStates, j.State)
		}
		if done {
			return res.Jobs
		}
		if time.Now().After(deadline) {
			for _, j := range res.Jobs {
				if !slices.Contains(finalStates, j.State) {
					t.Logf("job %d %s %s: %s, attempt %d, errors %v", j.ID, j.Kind, j.EncodedArgs, j.State, j.Attempt, j.Errors)
				}
			}
			t.Fatalf("%d jobs, not all finalized after %v", len(res.Jobs), timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitJob waits until a job of kind is completed.
func waitJob[TTx any](t *testing.T, client *river.Client[TTx], kind string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		res, err := client.JobList(context.Background(), river.NewJobListParams().Kinds(kind).States(rivertype.JobStateCompleted).First(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s job completed after %v", kind, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkJobs checks that every job completed, but the partition of the
// orders of the user bad, which must be cancelled at its first attempt
// with the API's 401, and that some job was rescued from a killed worker.
func checkJobs(t *testing.T, jobs []*rivertype.JobRow, bad string, wantRescued bool) {
	t.Helper()
	rescued := 0
	for _, j := range jobs {
		rescues := 0
		for _, e := range j.Errors {
			if strings.Contains(e.Error, "rescued") {
				rescues++
			}
		}
		if rescues > 0 {
			rescued++
		}
		if strings.Contains(string(j.EncodedArgs), bad) && j.Kind == riverjob.KindPartition {
			// Cancelled at its first attempt that got an answer: only
			// rescues from killed workers may come before.
			n := len(j.Errors)
			if j.State != rivertype.JobStateCancelled || n == 0 || !strings.Contains(j.Errors[n-1].Error, "401") || rescues != n-1 {
				t.Errorf("job %d of the refused partition: %s at attempt %d, errors %+v; want cancelled at once, with the 401", j.ID, j.State, j.Attempt, j.Errors)
			}
			continue
		}
		if j.State != rivertype.JobStateCompleted {
			t.Errorf("job %d %s %s: %s, errors %+v", j.ID, j.Kind, j.EncodedArgs, j.State, j.Errors)
		}
	}
	if wantRescued && rescued == 0 {
		t.Error("no job was rescued from a killed worker")
	}
	t.Logf("%d jobs, %d rescued from killed workers", len(jobs), rescued)
}

// checkTables compares the tables of db with the mock's data, but the
// orders of the user bad, and checks with the writes table (filled by
// triggers) that no row was written twice: a resumed partition starts at
// its checkpoint, not before.
func checkTables(t *testing.T, db *sql.DB, table func(string) string, a *api, bad string) {
	t.Helper()
	var users, orders, events []string
	for _, u := range a.Records() {
		users = append(users, u.ID+" "+u.Email)
		if u.ID == bad {
			continue
		}
		os, _ := a.Orders(u.ID)
		for _, o := range os {
			orders = append(orders, fmt.Sprintf("%s %s %s %d", o.ID, o.UserID, o.Status, o.Amount))
		}
	}
	for _, e := range a.Events() {
		events = append(events, e.ID+" "+e.Type)
	}
	for _, c := range []struct {
		name, query string
		want        []string
	}{
		{"users", `SELECT id || ' ' || email FROM ` + table("users"), users},
		{"orders", `SELECT id || ' ' || "userId" || ' ' || status || ' ' || amount FROM ` + table("orders"), orders},
		{"events", `SELECT id || ' ' || type FROM ` + table("events"), events},
	} {
		slices.Sort(c.want)
		got := queryStrings(t, db, c.query+" ORDER BY 1")
		if diff := gocmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s table (-mock +table):\n%s", c.name, diff)
		}
	}
	twice := queryStrings(t, db, `SELECT tbl || ' ' || id || ' ' || count(*) FROM `+table("writes")+` GROUP BY tbl, id HAVING count(*) > 1 ORDER BY 1`)
	if len(twice) > 0 {
		t.Errorf("%d rows written more than once (table, id, writes), such as %q", len(twice), twice[:min(5, len(twice))])
	}
	n := queryStrings(t, db, `SELECT CAST(count(*) AS TEXT) FROM `+table("writes"))
	t.Logf("%s row writes for %d rows", n[0], len(users)+len(orders)+len(events))
}

func queryStrings(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitTables waits until the example's three tables exist: the worker
// creates them when it starts.
func waitTables(t *testing.T, exists func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, err := exists()
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not create its tables within a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killer kills the victim worker in the middle of a page, kills times,
// each time after the victim has sent `after` requests, and starts a new
// victim after each kill.
//
// Until a victim that is still to be killed sends its first request, the
// other workers' requests are held (each up to maxHold): a victim that is
// slow to start, as on a loaded machine, still finds jobs left to run and
// be killed in, instead of a queue that the others emptied meanwhile, and
// the kills land whatever the machine's speed. The others go on unheld
// once the victim has exited, or has not sent a request within
// maxVictimStart: a victim that cannot start must not slow the sync past
// the test's deadline.
type killer struct {
	t      *testing.T
	start  func(id string) *proc
	kills  int
	after  int
	armed  func() bool // kills wait until it returns true
	mu     sync.Mutex
	victim *proc
	due    chan struct{} // closed at the victim's first request; nil when none is awaited
	since  time.Time     // when the victim due started
	seen   int
	killed int
}

// attach starts the first victim and makes a's hooks the killer's.
func (k *killer) attach(a *api) {
	k.mu.Lock()
	k.next()
	k.mu.Unlock()
	a.mu.Lock()
	a.before, a.hold = k.before, k.hold
	a.mu.Unlock()
}

// next starts the next victim. k.mu is held.
func (k *killer) next() {
	k.victim, k.seen = k.start(fmt.Sprintf("victim-%d", k.killed+1)), 0
	if k.killed < k.kills {
		k.due, k.since = make(chan struct{}), time.Now()
	}
}

// maxVictimStart is how long the other workers are held for a victim to
// send its first request: far longer than one takes on a loaded machine.
const maxVictimStart = 20 * time.Second

// hold is the mock's hold: the other workers wait for a victim due to
// send its first request.
func (k *killer) hold(worker string) <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.due == nil || worker == k.victim.id {
		return nil
	}
	exited := false
	select {
	case <-k.victim.done:
		exited = true
	default:
	}
	if exited || time.Since(k.since) > maxVictimStart {
		k.t.Logf("worker %s sent no request %v after it started (exited: %v): the other workers go on unheld", k.victim.id, time.Since(k.since).Round(time.Millisecond), exited)
		close(k.due)
		k.due = nil
		return nil
	}
	return k.due
}

// before is the mock's hook: it runs in the request's handler, so the
// victim dies with the request in flight.
func (k *killer) before(worker, path string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.victim == nil || worker != k.victim.id {
		return
	}
	if k.due != nil {
		close(k.due)
		k.due = nil
	}
	if k.killed >= k.kills || !k.armed() {
		return
	}
	if k.seen++; k.seen < k.after {
		return
	}
	k.victim.kill()
	k.killed++
	k.t.Logf("killed worker %s with SIGKILL while it fetched %s", worker, path)
	k.next()
}

func (k *killer) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.killed
}

// pgDSN returns the DSN of the test database, or skips the test when there
// is none (and fails it when PAGEKIT_REQUIRE_POSTGRES=1, as in CI).
func pgDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	if dsn == "" {
		const how = "PAGEKIT_POSTGRES_DSN is not set; to run the PostgreSQL tests, start a server and set it (.ci/run does)"
		if os.Getenv("PAGEKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal(how + ", but PAGEKIT_REQUIRE_POSTGRES=1")
		}
		t.Skip(how)
	}
	return dsn
}
