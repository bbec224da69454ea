package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// changing is the mock API on 127.0.0.1 with its users changing while
// clients read them: before every request for a page of users, and once
// every `every` other requests (when set), `updates` users get a new
// updatedAt, later than every other, which moves them to the end of the
// users' list, and `inserts` new users, with their orders, are created
// there. Each user's orders are a function of the
// user's id, so a user's orders never change: orders go missing only
// when a user's partition is never synced.
type changing struct {
	*mockapi.Server
	URL string

	mu                      sync.Mutex
	n                       int // requests served
	every, updates, inserts int
	changes                 int    // mutations made while serving
	at                      int    // request number that calls hook
	hook                    func() // called once, at request number at
}

func serveChanging(t *testing.T, cfg mockapi.Config) *changing {
	t.Helper()
	a := &changing{Server: mockapi.New(cfg)}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

func (a *changing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.n++
	mutate := a.every > 0 && (a.n%a.every == 0 || r.URL.Path == mockapi.PathPageNumber)
	updates, inserts := a.updates, a.inserts
	if mutate {
		a.changes++
	}
	var hook func()
	if a.hook != nil && a.n >= a.at {
		hook, a.hook = a.hook, nil
	}
	a.mu.Unlock()
	if mutate {
		a.Mutate(updates, inserts)
	}
	if hook != nil {
		hook()
	}
	a.Server.ServeHTTP(w, r)
}

// change makes the API update and insert users once every `every`
// requests from now on; every 0 stops it.
func (a *changing) change(every, updates, inserts int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.every, a.updates, a.inserts = every, updates, inserts
}

// After calls f once the API has served n more requests.
func (a *changing) After(n int, f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at, a.hook = a.n+n, f
}

// BaseURL returns the API's base URL.
func (a *changing) BaseURL() string { return a.URL }

func (a *changing) mutations() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.changes
}

// checkPartitions fails the test unless every user of the API has a
// completed partition of orders: a checkpoint under "orders/<id>" whose
// position is back at the start, as a completed sync leaves it.
func checkPartitions(t *testing.T, api *mockapi.Server, db string) {
	t.Helper()
	d, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	done := make(map[string]bool)
	query(t, d, `SELECT stream, checkpoint FROM _pagekit_state WHERE stream LIKE 'orders/%'`, func(s scanner) error {
		var stream, text string
		if err := s.Scan(&stream, &text); err != nil {
			return err
		}
		var cp paginate.Checkpoint
		if err := json.Unmarshal([]byte(text), &cp); err != nil {
			return fmt.Errorf("checkpoint of %s: %w", stream, err)
		}
		done[stream[len("orders/"):]] = cp.Position.IsStart()
		return nil
	})
	var never, open []string
	users := api.Records()
	for _, u := range users {
		switch d, ok := done[u.ID]; {
		case !ok:
			never = append(never, u.ID)
		case !d:
			open = append(open, u.ID)
		}
	}
	if len(never) > 0 || len(open) > 0 {
		t.Errorf("of %d users, %d have no partition of orders synced (%.3v...) and %d an unfinished one (%.3v...)",
			len(users), len(never), never, len(open), open)
	}
}

// TestParentsChangeDuringSync syncs every stream four times while the
// API's users are updated and inserted, so that the users' pages shift
// under both the users stream and the orders' read of the users' list,
// then once on a quiet API. Every run must end without an error, and the
// quiet one must leave every table equal to the API's data and every
// user's partition of orders synced: no user skipped by a shift is lost.
func TestParentsChangeDuringSync(t *testing.T) {
	for _, seed := range []uint64{21, 22} {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			api := serveChanging(t, mockapi.Config{Records: 250, Seed: seed, Events: -1})
			cfg := testConfig(t, api.URL)
			api.change(20, 2, 1)
			drifts := 0
			for round := 1; round <= 4; round++ {
				res, _ := syncOK(t, cfg)
				if !res.Complete() {
					t.Fatalf("round %d: not complete: %+v", round, res)
				}
				orders, _ := res.Stream("orders")
				drifts += orders.Drifts
			}
			api.change(0, 0, 0)
			t.Logf("%d changes during the syncs, %d signs of drift in the orders' list; %d users now", api.mutations(), drifts, api.Len())
			if drifts == 0 {
				t.Error("the orders' read of the users' list saw no drift: the changes did not shift it, and the test shows nothing")
			}
			syncOK(t, cfg)
			checkPartitions(t, api.Server, cfg.DB)
			checkTables(t, api.Server, cfg.DB)
		})
	}
}

// TestKillNineParentsChange kills the command with SIGKILL at random
// moments of three syncs, the API's users updated and inserted between
// every two runs, and reruns it until each sync completes; then it runs it
// once more on a quiet API. Every table must then equal the API's data and
// every user's partition of orders be synced: a shift of the users' pages
// between a kill and the resume must be seen, by the users stream and by
// the orders' read of the users' list alike, and read again. One request
// in flight keeps the partitions close behind the list, so that a shift
// slides users that no partition visited yet behind the list's place.
func TestKillNineParentsChange(t *testing.T) {
	bin := binary(t)
	api := serveChanging(t, mockapi.Config{Records: 300, Seed: 29, Events: -1})
	db := filepath.Join(t.TempDir(), "kill.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	kills, midList := 0, 0
	for sync := 1; sync <= 3; sync++ {
		for run := 1; ; run++ {
			if run > 25 {
				t.Fatalf("sync %d did not complete in 25 runs", sync)
			}
			api.Update(rng.IntN(30) + 10)
			api.Insert(rng.IntN(3))
			if listPage(t, db) > 1 {
				midList++
			}
			killed, out := runKilled(t, bin, api, db, rng, run <= 6, 150, "-in-flight", "1")
			if !killed {
				if !strings.Contains(out, "Sync of 3 streams complete") {
					t.Fatalf("sync %d run %d exited 0 without completing:\n%s", sync, run, out)
				}
				break
			}
			kills++
		}
	}
	t.Logf("%d kills, %d runs resumed the users' list past its first page; %d users now", kills, midList, api.Len())
	if midList < 2 {
		t.Errorf("%d runs resumed the orders' read of the users' list past its first page: the timing needs tuning", midList)
	}
	if _, out := runKilled(t, bin, api, db, rng, false, 0, "-in-flight", "1"); !strings.Contains(out, "Sync of 3 streams complete") {
		t.Fatalf("the quiet run did not complete:\n%s", out)
	}
	checkPartitions(t, api.Server, db)
	checkTables(t, api.Server, db)
}

// listPage returns the page of the users' list where the orders stream's
// read of it resumes, 0 when it has no state or starts at the start.
func listPage(t *testing.T, db string) int64 {
	t.Helper()
	cp, found := loadCheckpoint(t, db, "orders")
	if !found {
		return 0
	}
	_, state, _ := strings.Cut(cp.Position.Token, " ")
	var s struct {
		List paginate.Checkpoint `json:"list"`
	}
	if err := json.Unmarshal([]byte(state), &s); err != nil {
		t.Fatalf("the orders stream's state %q: %v", cp.Position.Token, err)
	}
	return s.List.Position.Page
}
