package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// listDrifts returns the drift the list jobs of db saw, as their outputs
// say.
func listDrifts(t *testing.T, db *sql.DB) int {
	t.Helper()
	drifts := 0
	for _, meta := range queryStrings(t, db, `SELECT json(metadata) FROM river_job WHERE kind = 'pagekit_list'`) {
		var m struct {
			Output riverjob.Output `json:"output"`
		}
		if err := json.Unmarshal([]byte(meta), &m); err != nil {
			t.Fatalf("a list job's metadata %s: %v", meta, err)
		}
		drifts += m.Output.Drifts
	}
	t.Logf("the list jobs saw %d signs of drift", drifts)
	return drifts
}

// checkSynced checks that the users and orders tables of db hold the API's
// data (go-cmp), and that every user's partition of orders completed.
func checkSynced(t *testing.T, db *sql.DB, a *api) {
	t.Helper()
	var users, orders []string
	var unsynced []string
	done := partitionsDone(t, db)
	for _, u := range a.Records() {
		users = append(users, u.ID+" "+u.UpdatedAt.UTC().Format(time.RFC3339))
		os, _ := a.Orders(u.ID)
		for _, o := range os {
			orders = append(orders, o.ID+" "+o.UserID)
		}
		if !done[u.ID] {
			unsynced = append(unsynced, u.ID)
		}
	}
	if len(unsynced) > 0 {
		t.Errorf("%d of %d users have no completed partition of orders: %v", len(unsynced), len(users), unsynced)
	}
	slices.Sort(users)
	slices.Sort(orders)
	got := queryStrings(t, db, `SELECT id || ' ' || strftime('%Y-%m-%dT%H:%M:%SZ', updatedAt) FROM users ORDER BY 1`)
	if diff := gocmp.Diff(users, got); diff != "" {
		t.Errorf("users table (-mock +table):\n%s", diff)
	}
	got = queryStrings(t, db, `SELECT id || ' ' || userId FROM orders ORDER BY 1`)
	if diff := gocmp.Diff(orders, got); diff != "" {
		t.Errorf("orders table: %d rows, want %d (-mock +table):\n%s", len(got), len(orders), diff)
	}
}

// partitionsDone returns, by user id, whether the user's partition of
// orders has the checkpoint of a completed sync: its position back at the
// start.
func partitionsDone(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	done := make(map[string]bool)
	for _, row := range queryStrings(t, db, `SELECT stream || ' ' || checkpoint FROM _pagekit_state WHERE stream LIKE 'orders/%'`) {
		stream, text, _ := strings.Cut(row, " ")
		var cp paginate.Checkpoint
		if err := json.Unmarshal([]byte(text), &cp); err != nil {
			t.Fatalf("checkpoint of %s: %v", stream, err)
		}
		done[strings.TrimPrefix(stream, "orders/")] = cp.Position.IsStart()
	}
	return done
}

// TestWorkersParentsChange syncs four times as River jobs, in one worker
// process on SQLite, while the API's users change: before every request
// for a page of users and every 20 other requests. The first sync runs to
// its end; in the second and the third the worker is killed with SIGKILL
// while it reads a page of users past the first (the users stream's or the
// orders' list job's), 20 users are updated and 2 inserted, and a new
// worker is started, which rescues the killed jobs and resumes them from
// their checkpoints. The fourth sync runs on a quiet API. The changes must
// have made the list jobs drift, and the tables must then hold the API's
// data and every user's partition of orders have completed: no user that a
// change slid past a list, or moved across the place a killed list resumed
// from, is lost.
func TestWorkersParentsChange(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	path := filepath.Join(t.TempDir(), "shop.db")
	a := newAPI(t, mockapi.Config{Records: 300, Seed: 17, OrdersPerUser: 3, Events: -1})
	args := workerArgs(a, "-db", path)

	var mu sync.Mutex
	var victim *proc
	n, pages, changing, kill := 0, 0, true, false
	kills := 0
	a.mu.Lock()
	a.before = func(worker, p string) {
		mu.Lock()
		defer mu.Unlock()
		if n++; changing && (p == mockapi.PathPageNumber || n%20 == 0) {
			a.Mutate(2, 1)
		}
		if p != mockapi.PathPageNumber || victim == nil || worker != victim.id || !kill {
			return
		}
		if pages++; pages < 4 {
			return
		}
		victim.kill()
		kills++
		kill, pages = false, 0
		a.Mutate(20, 2)
		t.Logf("killed worker %s with SIGKILL while it fetched a page of users", worker)
		victim = startWorker(t, bin, fmt.Sprintf("victim-%d", kills+1), args...)
	}
	a.mu.Unlock()
	mu.Lock()
	victim = startWorker(t, bin, "victim-1", args...)
	mu.Unlock()

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
	client, err := river.NewClient(riversqlite.New(db), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 4; round++ {
		mu.Lock()
		changing, kill = round < 4, round == 2 || round == 3
		mu.Unlock()
		if _, err := client.InsertMany(t.Context(), syncJobs); err != nil {
			t.Fatal(err)
		}
		waitLists(t, client, round, 3*time.Minute)
	}
	mu.Lock()
	if kills != 2 {
		t.Errorf("the worker was killed %d times, want 2", kills)
	}
	victim.stop(t)
	mu.Unlock()
	rescued := 0
	for _, meta := range queryStrings(t, db, `SELECT json(errors) FROM river_job WHERE errors IS NOT NULL`) {
		if strings.Contains(meta, "rescued") {
			rescued++
		}
	}
	t.Logf("%d jobs rescued from killed workers; %d users", rescued, a.Len())
	if rescued == 0 {
		t.Error("no job was rescued from a killed worker: the kills came too late")
	}
	if listDrifts(t, db) == 0 {
		t.Error("no list job saw drift: the changes did not shift the users' list, and the test shows nothing")
	}
	checkSynced(t, db, a)
}

// waitLists waits until n list jobs have completed and no job is left
// unfinished.
func waitLists[TTx any](t *testing.T, client *river.Client[TTx], n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lists, err := client.JobList(context.Background(), river.NewJobListParams().Kinds(riverjob.KindList).States(rivertype.JobStateCompleted).First(100))
		if err != nil {
			t.Fatal(err)
		}
		open, err := client.JobList(context.Background(), river.NewJobListParams().States(unfinished...).First(1))
		if err != nil {
			t.Fatal(err)
		}
		if len(lists.Jobs) >= n && len(open.Jobs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d list jobs completed, %d jobs unfinished after %v", len(lists.Jobs), len(open.Jobs), timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
