package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

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
