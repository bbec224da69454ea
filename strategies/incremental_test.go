package strategies_test

// Incremental syncs of the mock API's other shapes, each synced exactly:
// after every run the table equals the source (go-cmp).

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// syncTwice syncs p into a fresh table, changes the source with change,
// syncs again, and checks the table against the source after each run. It
// returns the records each run delivered.
func syncTwice(t *testing.T, api *mockapi.Server, p paginate.Paginator[mockapi.User], change func()) (first, second map[string]int) {
	t.Helper()
	db := openDB(t, "w.db")
	s := openTable(t, db, "user")
	opts := paginate.Options[mockapi.User]{HighWater: stamp, Key: func(u mockapi.User) string { return u.ID }}
	for run := range 2 {
		if run == 1 {
			change()
		}
		s.newRun()
		res, err := paginate.Run(context.Background(), p, s, opts)
		if err != nil || !res.Stop.Complete() {
			t.Fatalf("run %d: %v, stop %v", run+1, err, res.Stop)
		}
		if diff := cmp.Diff(api.Records(), readTable(t, db, "user")); diff != "" {
			t.Fatalf("run %d: the table differs from the source (-want +got):\n%s", run+1, diff)
		}
	}
	return s.runs[0], s.runs[1]
}

// A HubSpot-style search by POST, the cursor, the page size and the
// window's bounds all in the JSON body.
func TestIncrementalSearchByPost(t *testing.T) {
	api, base := serveMock(t, mockapi.Config{Records: 230, Seed: 21})
	p := &strategies.NextToken[mockapi.User]{
		HTTP: strategies.HTTP{URL: base + mockapi.PathSearch},
		Paging: strategies.Paging[mockapi.User]{
			Size: 40, SizeParam: strategies.Body("limit"),
			SinceParam: strategies.Body("filter.updated_since"),
			UntilParam: strategies.Body("filter.updated_until"),
			ItemsPath:  "results", TotalItemsPath: "total",
		},
		TokenPath: "paging.next.after", TokenParam: strategies.Body("after"),
	}
	_, second := syncTwice(t, api, p, func() { api.Update(6); api.Insert(9) })
	// The second run reads from the first one's mark: the 15 changed
	// records and the one at the mark, which the inclusive bound reads
	// again.
	if len(second) != 16 {
		t.Errorf("second run delivered %d records, want 16", len(second))
	}
}

// A newest-first feed without a filter: the second run stops at the first
// record below the mark instead of reading the whole feed.
func TestIncrementalNewestFirst(t *testing.T) {
	api, base := serveMock(t, mockapi.Config{Records: 230, Seed: 22})
	p := &strategies.PageNumber[mockapi.User]{
		HTTP: strategies.HTTP{URL: base + mockapi.PathNewestFirst},
		Paging: strategies.Paging[mockapi.User]{
			Size: 40, SizeParam: strategies.Query("per_page"),
			ItemsPath: "data", NewestFirst: stamp,
		},
	}
	requests := api.Stats().OK
	first, second := syncTwice(t, api, p, func() {
		requests = api.Stats().OK
		api.Update(5)
		api.Insert(11)
	})
	if len(first) != 230 || len(second) != 17 {
		t.Errorf("runs delivered %d and %d records, want 230 and 17 (16 changed and the one at the mark)", len(first), len(second))
	}
	if n := api.Stats().OK - requests; n != 1 {
		t.Errorf("the second run sent %d requests, want 1", n)
	}
}

// Records whose updatedAt shows up late, behind the last mark: a sync that
// starts at the mark misses them, one with a lookback reads them.
func TestIncrementalLookback(t *testing.T) {
	for _, tt := range []struct {
		lookback time.Duration
		misses   bool
	}{{0, true}, {3 * time.Hour, false}} {
		api, base := serveMock(t, mockapi.Config{Records: 180, Seed: 23})
		p := &strategies.PageNumber[mockapi.User]{
			HTTP: strategies.HTTP{URL: base + mockapi.PathPageNumber},
			Paging: strategies.Paging[mockapi.User]{
				Size: 50, SizeParam: strategies.Query("per_page"), SinceParam: strategies.Query("updated_since"),
				Lookback: tt.lookback, ItemsPath: "data", TotalPagesPath: "total_pages",
			},
		}
		db := openDB(t, "w.db")
		s := openTable(t, db, "user")
		opts := paginate.Options[mockapi.User]{HighWater: stamp}
		for run := range 2 {
			if run == 1 {
				api.InsertLate(4, 2*time.Hour)
			}
			s.newRun()
			if _, err := paginate.Run(context.Background(), p, s, opts); err != nil {
				t.Fatal(err)
			}
		}
		got := readTable(t, db, "user")
		if missed := len(api.Records()) - len(got); (missed == 4) != tt.misses || !tt.misses && missed != 0 {
			t.Errorf("lookback %v: %d of the 4 late records missed", tt.lookback, missed)
		}
		if !tt.misses {
			if diff := cmp.Diff(api.Records(), got); diff != "" {
				t.Errorf("lookback %v: the table differs from the source (-want +got):\n%s", tt.lookback, diff)
			}
		}
	}
}
