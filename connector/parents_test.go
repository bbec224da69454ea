package connector_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
)

// shiftAt returns a wrapper of the mock API that updates n users, once,
// right before it serves the users' page number page: users the list has
// passed move to the end, and the users after each one slide back a place,
// so that one slides onto a page already read.
func shiftAt(e **env, page string, n int) func(http.Handler) http.Handler {
	var once sync.Once
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockapi.PathPageNumber && r.URL.Query().Get("page") == page {
				once.Do(func() { (*e).api.Update(n) })
			}
			h.ServeHTTP(w, r)
		})
	}
}

// unsynced returns the users of the mock whose partition of orders has no
// completed checkpoint: never visited, or left mid-way.
func (e *env) unsynced(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, u := range e.api.Records() {
		cp, found, err := e.orders.Load(context.Background(), "orders/"+u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !found || !cp.Position.IsStart() {
			out = append(out, u.ID)
		}
	}
	return out
}

// TestDriftedListReadAgain updates users while the orders stream reads the
// users' list, behind its position, so that the list skips users. With
// drift detection on the users stream, the list sees the drift, keeps its
// starting mark, and the next run, on a quiet API, reads the list again
// from there and syncs the skipped users' orders. Without it, the list
// advances its mark past the skipped users, and their orders are never
// synced: the loss the protection prevents. Both ways of running a child
// stream are checked: Run, and Partitions with RunPartition, as a job
// queue does.
func TestDriftedListReadAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		drift bool
		queue bool
	}{
		{"Run", true, false},
		{"Partitions", true, true},
		{"Run/no drift detection", false, false},
		{"Partitions/no drift detection", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			e = newEnv(t, mockapi.Config{Records: 100, Seed: 8, OrdersPerUser: 2, Events: -1}, shiftAt(&e, "4", 15))
			c := e.connector(t, connector.Config{}, streamOpts{drift: tc.drift, concurrency: 1})
			sync := func() (drifts int) {
				t.Helper()
				if !tc.queue {
					res, err := c.Run(t.Context(), "orders")
					if err != nil {
						t.Fatalf("Run: %v", err)
					}
					return res.Streams[0].Drifts
				}
				var parts []connector.Partition
				res, err := c.Partitions(t.Context(), "orders", func(_ context.Context, p []connector.Partition) error {
					parts = append(parts, p...)
					return nil
				})
				if err != nil {
					t.Fatalf("Partitions: %v", err)
				}
				for _, p := range parts {
					if _, err := c.RunPartition(t.Context(), p); err != nil {
						t.Fatalf("RunPartition %s: %v", p.Key, err)
					}
				}
				return res.DriftCount
			}

			drifts := sync()
			skipped := len(e.unsynced(t))
			t.Logf("the first sync, under change, skipped %d users and saw %d signs of drift", skipped, drifts)
			if skipped == 0 {
				t.Fatal("the change skipped no user: the test needs another seed or shift")
			}
			if tc.drift != (drifts > 0) {
				t.Errorf("the first sync saw %d signs of drift, with drift detection %v", drifts, tc.drift)
			}
			sync()
			lost := e.unsynced(t)
			if tc.drift && len(lost) > 0 {
				t.Errorf("after a quiet sync, %d of %d users have no orders synced: %v", len(lost), e.api.Len(), lost)
			}
			if !tc.drift && len(lost) == 0 {
				t.Errorf("without drift detection, a quiet sync repaired the skip: the test no longer shows what the protection is for")
			}
			if tc.drift {
				e.checkOrders(t)
			}
		})
	}
}
