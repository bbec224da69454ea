package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// changeEvery makes the API update `updates` users and insert `inserts`
// before every request for a page of users, and once every `every` other
// requests, until the returned function is called. An updated user moves
// to the end of the users' list, and every user after it one place back.
func (a *api) changeEvery(every, updates, inserts int) (stop func()) {
	var mu sync.Mutex
	n, on := 0, true
	a.mu.Lock()
	a.before = func(_, path string) {
		mu.Lock()
		defer mu.Unlock()
		if n++; on && (path == mockapi.PathPageNumber || n%every == 0) {
			a.Mutate(updates, inserts)
		}
	}
	a.mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		on = false
	}
}

// TestWorkersParentsChange runs four syncs as River jobs, in one process
// on SQLite, while the API's users are updated and inserted, so that the
// users' pages shift under the users stream and under the list job that
// inserts a job per user's orders, then one sync on a quiet API. The
// tables must then hold the API's data, and every user's orders partition
// have completed: no user a shift slid past is lost.
func TestWorkersParentsChange(t *testing.T) {
	a := newAPI(t, mockapi.Config{Records: 250, Seed: 13, Events: -1})
	cfg := config{
		Flags:    console.Flags{URL: a.URL, DB: filepath.Join(t.TempDir(), "shop.db")},
		InFlight: 4, OrdersPage: 50, JobTimeout: time.Minute, RescueAfter: 2 * time.Minute,
		Retry: paginate.Retry{InitialInterval: time.Millisecond, MaxInterval: 10 * time.Millisecond, MaxAttempts: 10},
	}
	stop := a.changeEvery(20, 2, 1)
	for round := 1; round <= 4; round++ {
		var out bytes.Buffer
		if err := run(t.Context(), cfg, &out, &out); err != nil {
			t.Fatalf("sync %d: %v\n%s", round, err, out.String())
		}
	}
	stop()
	t.Logf("%d users after the changes", a.Len())
	var out bytes.Buffer
	if err := run(t.Context(), cfg, &out, &out); err != nil {
		t.Fatalf("quiet sync: %v\n%s", err, out.String())
	}

	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
	if drifts == 0 {
		t.Error("no list job saw drift: the changes did not shift the users' list, and the test shows nothing")
	}
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
