package riverjob_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// both runs a test on SQLite and on PostgreSQL.
func both(t *testing.T, sqliteTest func(*testing.T, *backend[*sql.Tx]), pgTest func(*testing.T, *backend[pgx.Tx])) {
	t.Run("sqlite", func(t *testing.T) { sqliteTest(t, newSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { pgTest(t, newPostgres(t)) })
}

// states returns each job's state, by jobKey; a job inserted again gets
// its states in insertion order.
func states(t *testing.T, jobs []*rivertype.JobRow) map[string][]rivertype.JobState {
	out := make(map[string][]rivertype.JobState)
	for _, j := range jobs {
		k := jobKey(t, j)
		out[k] = append(out[k], j.State)
	}
	return out
}

// wantStates returns the states of a sync of the shop's jobs: each of the
// users partition, the orders list and each orders partition in state,
// but for the partitions of except.
func wantStates(a *api, n int, state rivertype.JobState, except map[string]rivertype.JobState) map[string][]rivertype.JobState {
	want := map[string][]rivertype.JobState{}
	add := func(k string, st rivertype.JobState) {
		for range n {
			want[k] = append(want[k], st)
		}
	}
	add(riverjob.KindPartition+" users", state)
	add(riverjob.KindList+" orders", state)
	for _, u := range a.Records() {
		k := riverjob.KindPartition + " orders/" + u.ID
		if st, ok := except[u.ID]; ok {
			add(k, st)
			continue
		}
		add(k, state)
	}
	return want
}

// output returns a job's recorded output.
func output(t *testing.T, j *rivertype.JobRow) map[string]any {
	t.Helper()
	var md struct {
		Output map[string]any `json:"output"`
	}
	if err := json.Unmarshal(j.Metadata, &md); err != nil {
		t.Fatal(err)
	}
	return md.Output
}

// TestSync runs two syncs of a connector of a stream and a child stream
// as jobs: every partition's job completes, in the transaction of the
// partition's last page, and the tables hold the API's data.
func TestSync(t *testing.T) { both(t, testSync, testSync) }

func testSync[TTx any](t *testing.T, b *backend[TTx]) {
	ctx := context.Background()
	a := newAPI(t)
	s := start(t, b, a, nil)
	res, err := s.jobs.Enqueue(ctx, s.client, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Job.Kind != riverjob.KindPartition || res[1].Job.Kind != riverjob.KindList {
		t.Fatalf("Enqueue inserted %d jobs, want the users partition and the orders list", len(res))
	}
	jobs := s.wait(t, time.Minute)
	if diff := cmp.Diff(wantStates(a, 1, rivertype.JobStateCompleted, nil), states(t, jobs)); diff != "" {
		t.Errorf("job states (-want +got):\n%s", diff)
	}
	s.checkTables(t)
	for _, j := range jobs {
		if j.Kind != riverjob.KindPartition {
			continue
		}
		// Completed with the last page: the output has the items,
		// and no stop reason, which only a completion by River after
		// Work returned would record.
		want := map[string]any{"items": float64(ordersPerUser)}
		if jobKey(t, j) == riverjob.KindPartition+" users" {
			want["items"] = float64(users)
		}
		if diff := cmp.Diff(want, output(t, j)); diff != "" {
			t.Errorf("%s: output (-want +got):\n%s", jobKey(t, j), diff)
		}
	}

	// The second sync is incremental: the list gives the users updated
	// since the first, and those at its mark (the filter is inclusive).
	var mark time.Time
	for _, u := range a.Records() {
		if u.UpdatedAt.After(mark) {
			mark = u.UpdatedAt
		}
	}
	a.Update(2)
	want := wantStates(a, 1, rivertype.JobStateCompleted, nil)
	for _, u := range a.Records() {
		k := riverjob.KindPartition + " orders/" + u.ID
		if !u.UpdatedAt.Before(mark) {
			want[k] = append(want[k], rivertype.JobStateCompleted)
		}
	}
	want[riverjob.KindPartition+" users"] = append(want[riverjob.KindPartition+" users"], rivertype.JobStateCompleted)
	want[riverjob.KindList+" orders"] = append(want[riverjob.KindList+" orders"], rivertype.JobStateCompleted)
	if _, err := s.jobs.Enqueue(ctx, s.client, "shop"); err != nil {
		t.Fatal(err)
	}
	jobs = s.wait(t, time.Minute)
	if diff := cmp.Diff(want, states(t, jobs)); diff != "" {
		t.Errorf("job states after the second sync (-want +got):\n%s", diff)
	}
	s.checkTables(t)
}

// TestEnqueueUnique checks that a sync enqueued while the last one is
// still queued inserts nothing.
func TestEnqueueUnique(t *testing.T) { both(t, testEnqueueUnique, testEnqueueUnique) }

func testEnqueueUnique[TTx any](t *testing.T, b *backend[TTx]) {
	ctx := context.Background()
	a := newAPI(t)
	s := start(t, b, a, func(cfg *river.Config, _ *riverjob.Jobs[TTx]) {
		cfg.Queues = nil // insert only: the jobs stay available
		cfg.Workers = nil
	})
	first, err := s.jobs.Enqueue(ctx, s.client, "shop")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.jobs.Enqueue(ctx, s.client, "shop", "orders", "users")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range second {
		if !r.UniqueSkippedAsDuplicate || r.Job.ID != first[i].Job.ID {
			t.Errorf("second Enqueue, job %d: inserted a duplicate of job %d (skipped %v)", r.Job.ID, first[i].Job.ID, r.UniqueSkippedAsDuplicate)
		}
	}
	if _, err := s.jobs.Enqueue(ctx, s.client, "shop", "nope"); err == nil {
		t.Error("Enqueue of an unknown stream: no error")
	}
	if _, err := s.jobs.Enqueue(ctx, s.client, "nope"); !errorIs(err, riverjob.ErrUnknownConnector) {
		t.Errorf("Enqueue of an unknown connector: %v, want ErrUnknownConnector", err)
	}
}

// TestPermanentError checks that a partition the API refuses with 401 ends
// cancelled at its first attempt, with the error kept on the job, while
// the others complete.
func TestPermanentError(t *testing.T) { both(t, testPermanentError, testPermanentError) }

func testPermanentError[TTx any](t *testing.T, b *backend[TTx]) {
	a := newAPI(t)
	bad := a.userID(3)
	a.set(func(a *api) { a.status[mockapi.OrdersPath(bad)] = http.StatusUnauthorized })
	s := start(t, b, a, nil)
	if _, err := s.jobs.Enqueue(context.Background(), s.client, "shop"); err != nil {
		t.Fatal(err)
	}
	jobs := s.wait(t, time.Minute)
	want := wantStates(a, 1, rivertype.JobStateCompleted, map[string]rivertype.JobState{bad: rivertype.JobStateCancelled})
	if diff := cmp.Diff(want, states(t, jobs)); diff != "" {
		t.Errorf("job states (-want +got):\n%s", diff)
	}
	for _, j := range jobs {
		if j.State != rivertype.JobStateCancelled {
			continue
		}
		if j.Attempt != 1 || len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "401") || !strings.Contains(j.Errors[0].Error, "permanent") {
			t.Errorf("cancelled job: attempt %d, errors %+v; want one attempt with the 401", j.Attempt, j.Errors)
		}
	}
	s.checkTables(t, bad)
}

// TestTransientError checks that a partition whose fetches fail past the
// runner's retries is tried again by River, and completes.
func TestTransientError(t *testing.T) { both(t, testTransientError, testTransientError) }

func testTransientError[TTx any](t *testing.T, b *backend[TTx]) {
	a := newAPI(t)
	flaky := a.userID(5)
	// The runner tries a page 3 times: the first attempt of the job
	// fails, the second gets through.
	a.set(func(a *api) { a.unavailable[mockapi.OrdersPath(flaky)] = fastRetry.MaxAttempts })
	s := start(t, b, a, nil)
	if _, err := s.jobs.Enqueue(context.Background(), s.client, "shop"); err != nil {
		t.Fatal(err)
	}
	jobs := s.wait(t, time.Minute)
	if diff := cmp.Diff(wantStates(a, 1, rivertype.JobStateCompleted, nil), states(t, jobs)); diff != "" {
		t.Errorf("job states (-want +got):\n%s", diff)
	}
	for _, j := range jobs {
		if jobKey(t, j) != riverjob.KindPartition+" orders/"+flaky {
			continue
		}
		if j.Attempt != 2 || len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, "503") {
			t.Errorf("flaky partition: attempt %d, errors %+v; want a second attempt after a 503", j.Attempt, j.Errors)
		}
	}
	s.checkTables(t)
}

// TestJobLost checks that a job taken over by another worker while it ran
// (here: its attempt bumped, as a rescue and a new start do) does not
// complete with its last page: the page and the completion are rolled
// back together, and the job's next attempt completes the partition.
func TestJobLost(t *testing.T) { both(t, testJobLost, testJobLost) }

func testJobLost[TTx any](t *testing.T, b *backend[TTx]) {
	a := newAPI(t)
	victim := a.userID(2)
	var once sync.Once
	a.set(func(a *api) {
		a.before = func(r *http.Request) {
			if r.URL.Path == mockapi.OrdersPath(victim) && r.URL.Query().Get("page") == "3" {
				once.Do(func() {
					if err := b.bumpAttempt(victim); err != nil {
						t.Error(err)
					}
				})
			}
		}
	})
	s := start(t, b, a, nil)
	if _, err := s.jobs.Enqueue(context.Background(), s.client, "shop"); err != nil {
		t.Fatal(err)
	}
	jobs := s.wait(t, time.Minute)
	if diff := cmp.Diff(wantStates(a, 1, rivertype.JobStateCompleted, nil), states(t, jobs)); diff != "" {
		t.Errorf("job states (-want +got):\n%s", diff)
	}
	for _, j := range jobs {
		if jobKey(t, j) != riverjob.KindPartition+" orders/"+victim {
			continue
		}
		if len(j.Errors) != 1 || !strings.Contains(j.Errors[0].Error, riverjob.ErrJobLost.Error()) {
			t.Errorf("taken-over partition: errors %+v; want one, ErrJobLost", j.Errors)
		}
	}
	s.checkTables(t)
}

// TestPeriodicSkipsRunning checks that the periodic sync of a stream does
// not insert a second job while the first still runs, and does insert
// one once it has finished.
func TestPeriodicSkipsRunning(t *testing.T) {
	both(t, testPeriodicSkipsRunning, testPeriodicSkipsRunning)
}

func testPeriodicSkipsRunning[TTx any](t *testing.T, b *backend[TTx]) {
	ctx := context.Background()
	a := newAPI(t)
	gate := make(chan struct{})
	var open sync.Once
	t.Cleanup(func() { open.Do(func() { close(gate) }) })
	a.set(func(a *api) {
		a.before = func(r *http.Request) {
			if r.URL.Path == mockapi.PathPageNumber {
				<-gate
			}
		}
	})
	const every = 100 * time.Millisecond
	s := start(t, b, a, func(cfg *river.Config, jobs *riverjob.Jobs[TTx]) {
		pj, err := jobs.PeriodicJobs("shop", every, "users")
		if err != nil {
			t.Fatal(err)
		}
		cfg.PeriodicJobs = pj
	})
	usersJobs := func() []*rivertype.JobRow {
		res, err := s.client.JobList(ctx, river.NewJobListParams().Kinds(riverjob.KindPartition).First(1000))
		if err != nil {
			t.Fatal(err)
		}
		return res.Jobs
	}
	// The first job runs, blocked at the API, for many intervals.
	deadline := time.Now().Add(time.Minute)
	for js := usersJobs(); len(js) == 0 || js[0].State != rivertype.JobStateRunning; js = usersJobs() {
		if time.Now().After(deadline) {
			t.Fatal("the periodic job did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(10 * every)
	if js := usersJobs(); len(js) != 1 {
		t.Fatalf("%d jobs of the users partition while the first ran, want 1", len(js))
	}
	open.Do(func() { close(gate) })
	deadline = time.Now().Add(time.Minute)
	for js := usersJobs(); len(js) < 2 || js[0].State != rivertype.JobStateCompleted; js = usersJobs() {
		if time.Now().After(deadline) {
			t.Fatalf("no second periodic job after the first completed: %d jobs, the first %s", len(js), js[0].State)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTwoWorkersInTurn runs a sync on one worker, stops it while its
// sinks stay open, as an idle worker's do, and runs the next sync on
// another: no stream or list may stay locked by the first worker's
// PostgreSQL sessions.
func TestTwoWorkersInTurn(t *testing.T) {
	b := newPostgres(t)
	ctx := context.Background()
	a := newAPI(t)
	first := start(t, b, a, nil)
	if _, err := first.jobs.Enqueue(ctx, first.client, "shop"); err != nil {
		t.Fatal(err)
	}
	first.wait(t, time.Minute)
	if err := first.client.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	a.Update(2)
	second := start(t, b, a, nil)
	if _, err := second.jobs.Enqueue(ctx, second.client, "shop"); err != nil {
		t.Fatal(err)
	}
	for _, j := range second.wait(t, time.Minute) {
		if j.State != rivertype.JobStateCompleted || len(j.Errors) > 0 {
			t.Errorf("%s: %s, errors %+v", jobKey(t, j), j.State, j.Errors)
		}
	}
	second.checkTables(t)
}

// TestTimeoutGoesOn checks that a partition that runs out of its job's
// time after committing pages goes on from its checkpoint in the same job,
// without an error or a used attempt, and completes.
func TestTimeoutGoesOn(t *testing.T) { both(t, testTimeoutGoesOn, testTimeoutGoesOn) }

func testTimeoutGoesOn[TTx any](t *testing.T, b *backend[TTx]) {
	a := newAPI(t)
	slow := a.userID(4)
	// Page 1 alone, then pages 2 and 3 at once: the first attempt
	// commits page 1 and runs out of time while the others are fetched.
	a.set(func(a *api) {
		a.before = func(r *http.Request) {
			if r.URL.Path == mockapi.OrdersPath(slow) {
				time.Sleep(1400 * time.Millisecond)
			}
		}
	})
	s := start(t, b, a, func(cfg *river.Config, _ *riverjob.Jobs[TTx]) { cfg.JobTimeout = 2 * time.Second })
	if _, err := s.jobs.Enqueue(context.Background(), s.client, "shop"); err != nil {
		t.Fatal(err)
	}
	jobs := s.wait(t, time.Minute)
	if diff := cmp.Diff(wantStates(a, 1, rivertype.JobStateCompleted, nil), states(t, jobs)); diff != "" {
		t.Errorf("job states (-want +got):\n%s", diff)
	}
	for _, j := range jobs {
		if jobKey(t, j) != riverjob.KindPartition+" orders/"+slow {
			continue
		}
		var md struct {
			Snoozes int `json:"snoozes"`
		}
		if err := json.Unmarshal(j.Metadata, &md); err != nil {
			t.Fatal(err)
		}
		if md.Snoozes == 0 || len(j.Errors) > 0 {
			t.Errorf("slow partition: %d snoozes, attempt %d, errors %+v; want it snoozed, with no error", md.Snoozes, j.Attempt, j.Errors)
		}
	}
	// The run that went on resumed with the keys the first one committed
	// (Completing keeps its sink's KeyStore): on a quiet source it saw no
	// drift, and the completed sync advanced its mark. Without them it
	// would count as drifted (DriftResume) and keep the mark it started
	// from, empty on a first sync, so that the next one reads it all again.
	_, orders := b.sinks(t)
	cp, found, err := orders.(paginate.Store).Load(context.Background(), "orders/"+slow)
	if err != nil || !found {
		t.Fatalf("the slow partition's checkpoint: found %v, %v", found, err)
	}
	if cp.Position.Since == "" || cp.Drifted {
		t.Errorf("the slow partition completed at %+v, drifted %v; want its mark advanced, no drift", cp.Position, cp.Drifted)
	}
	s.checkTables(t)
}
