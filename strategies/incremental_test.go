package strategies_test

// Incremental syncs of the mock API's other shapes, each synced exactly:
// after every run the table equals the source (go-cmp).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
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
	clock := newClock(windowStart)
	api, base := serveMock(t, mockapi.Config{Records: 230, Seed: 21, Clock: clock.now})
	_, second := syncTwice(t, api, searchOf(base, clock), func() {
		clock.add(time.Hour)
		api.Update(6)
		api.Insert(9)
		clock.add(time.Minute) // the window ends after them
	})
	// The second run reads from the first one's end: the 15 changed
	// records and no other, since the window's end is exclusive.
	if len(second) != 15 {
		t.Errorf("second run delivered %d records, want 15", len(second))
	}
}

// windowStart is when the tests' clocks start: after every record of the
// mock's datasets.
var windowStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a test clock shared by the mock API, which stamps its changes
// with it, and a paginator's Until, as if both ran on one machine.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock {
	c := new(clock)
	c.t.Store(t.Unix())
	return c
}

func (c *clock) now() time.Time      { return time.Unix(c.t.Load(), 0).UTC() }
func (c *clock) add(d time.Duration) { c.t.Add(int64(d / time.Second)) }
func (c *clock) stamp() string       { return c.now().Format(stampLayout) }

// searchOf syncs the mock API's search by POST in windows that end at
// clock's time, 40 records a page.
func searchOf(base string, clock *clock) *strategies.NextToken[mockapi.User] {
	return &strategies.NextToken[mockapi.User]{
		Request:   strategies.Request{URL: base + mockapi.PathSearch},
		Size:      40,
		SizeParam: strategies.Body("limit"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "results",
			TotalItemsPath: "total",
		},
		Window: strategies.Window[mockapi.User]{
			SinceParam: strategies.Body("filter.updated_since"),
			UntilParam: strategies.Body("filter.updated_until"),
			Until:      clock.now,
		},
		TokenPath:  "paging.next.after",
		TokenParam: strategies.Body("after"),
	}
}

// searchLog serves api and keeps the filter of each search it answers.
type searchLog struct {
	api     http.Handler
	mu      sync.Mutex
	filters []searchFilter
}

type searchFilter struct {
	Since string `json:"updated_since"`
	Until string `json:"updated_until"`
}

func (l *searchLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct{ Filter searchFilter }
	json.Unmarshal(body, &req)
	l.mu.Lock()
	l.filters = append(l.filters, req.Filter)
	l.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	l.api.ServeHTTP(w, r)
}

// since returns the filters sent from the n-th search on.
func (l *searchLog) from(n int) []searchFilter {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.filters[n:])
}

func (l *searchLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.filters)
}

// serveSearch serves a mock API whose changes are stamped by clock, and
// logs the filters of its searches.
func serveSearch(t *testing.T, records int, seed uint64, clock *clock) (*mockapi.Server, string, *searchLog) {
	api := mockapi.New(mockapi.Config{Records: records, Seed: seed, Clock: clock.now})
	log := &searchLog{api: api}
	srv := httptest.NewServer(log)
	t.Cleanup(srv.Close)
	return api, srv.URL, log
}

// before returns the records updated before t.
func before(recs []mockapi.User, t time.Time) []mockapi.User {
	return slices.DeleteFunc(recs, func(u mockapi.User) bool { return !u.UpdatedAt.Before(t) })
}

// Consecutive windows meet: the next sync's lower bound is exactly the
// last one's end, a record stamped at that very end is read once, by the
// next sync, and one stamped past the end (an API whose clock runs ahead)
// waits for the sync whose window holds it. After every sync the table is
// the source up to the window's end.
func TestWindowsMeet(t *testing.T) {
	clock := newClock(windowStart)
	api, base, log := serveSearch(t, 230, 24, clock)
	p := searchOf(base, clock)
	db := openDB(t, "w.db")
	s := openTable(t, db, "user")
	opts := paginate.Options[mockapi.User]{HighWater: stamp, Key: func(u mockapi.User) string { return u.ID }}
	ends := []string{clock.stamp()}
	var changed, late []mockapi.User // the records each sync must deliver, and one stamped past a window
	syncs := []func(){
		func() { changed = api.Records() },
		func() {
			changed = api.Update(2) // stamped at exactly the first window's end
			clock.add(time.Hour)
			changed = append(changed, api.Update(6)...)
			changed = append(changed, api.Insert(9)...)
			clock.add(time.Hour) // the second window ends here...
			ends = append(ends, clock.stamp())
			clock.add(time.Minute) // ...and a record is stamped past it
			late = api.Insert(1)
			clock.add(-time.Minute)
		},
		func() {
			clock.add(time.Hour)
			ends = append(ends, clock.stamp())
			changed = late
		},
	}
	for i, change := range syncs {
		change()
		s.newRun()
		sent := log.len()
		res, err := paginate.Run(context.Background(), p, s, opts)
		if err != nil || res.Stop != paginate.StopNoNextToken {
			t.Fatalf("sync %d: %v, stop %v", i+1, err, res.Stop)
		}
		filters := log.from(sent)
		if want := (searchFilter{Until: ends[i]}); i > 0 {
			want.Since = ends[i-1]
			if filters[0] != want {
				t.Errorf("sync %d's first search filters %+v, want %+v: from the last window's end to the new one", i+1, filters[0], want)
			}
		}
		if res.Checkpoint.Position.Since != ends[i] {
			t.Errorf("sync %d: the next starts at %q, want this window's end %q", i+1, res.Checkpoint.Position.Since, ends[i])
		}
		if diff := cmp.Diff(idCounts(changed), s.runs[i]); diff != "" {
			t.Errorf("sync %d delivered (-want +got):\n%s", i+1, diff)
		}
		end, _ := time.Parse(stampLayout, ends[i])
		if diff := cmp.Diff(before(api.Records(), end), readTable(t, db, "user")); diff != "" {
			t.Errorf("sync %d: the table differs from the source before %s (-want +got):\n%s", i+1, ends[i], diff)
		}
	}
}

// idCounts returns one delivery of each of recs, by id.
func idCounts(recs []mockapi.User) map[string]int {
	m := make(map[string]int, len(recs))
	for _, u := range recs {
		m[u.ID] = 1
	}
	return m
}

// A sync cancelled part way and resumed, in a new process and later,
// reads the window it started, to its end, and the next sync starts there.
func TestWindowResumed(t *testing.T) {
	clock := newClock(windowStart)
	api, base, log := serveSearch(t, 230, 25, clock)
	db := openDB(t, "w.db")
	s := openTable(t, db, "user")
	opts := paginate.Options[mockapi.User]{HighWater: stamp, Key: func(u mockapi.User) string { return u.ID }}
	end := clock.stamp()

	s.newRun()
	ctx, cancelled := cancelAfter(2, opts)
	res, err := paginate.Run(ctx, searchOf(base, clock), s, cancelled)
	if !errors.Is(err, context.Canceled) || res.Items != 80 {
		t.Fatalf("first run: %v, %d records; want cancelled after 80", err, res.Items)
	}
	clock.add(time.Hour)
	api.Update(7) // past the window: the next sync reads them

	s.newRun()
	sent := log.len()
	res, err = paginate.Run(context.Background(), searchOf(base, clock), s, opts)
	if err != nil || !res.Resumed || res.Stop != paginate.StopNoNextToken {
		t.Fatalf("resumed run: %v, resumed %v, stop %v", err, res.Resumed, res.Stop)
	}
	for i, f := range log.from(sent) {
		if f.Until != end {
			t.Errorf("resumed search %d: until %q, want the window's %q", i+1, f.Until, end)
		}
	}
	if res.Checkpoint.Position.Since != end {
		t.Errorf("after the resumed sync the next starts at %q, want the window's end %q", res.Checkpoint.Position.Since, end)
	}

	clock.add(time.Minute) // the next window ends after the updates
	s.newRun()
	sent = log.len()
	if res, err = paginate.Run(context.Background(), searchOf(base, clock), s, opts); err != nil || res.Items != 7 {
		t.Fatalf("next sync: %v, %d records; want the 7 updated", err, res.Items)
	}
	if f := log.from(sent)[0]; f != (searchFilter{Since: end, Until: clock.stamp()}) {
		t.Errorf("next sync's first search %+v, want since %q until %q", f, end, clock.stamp())
	}
	if diff := cmp.Diff(api.Records(), readTable(t, db, "user")); diff != "" {
		t.Errorf("the table differs from the source (-want +got):\n%s", diff)
	}
}

// A newest-first feed without a filter: the second run stops at the first
// record below the mark instead of reading the whole feed.
func TestIncrementalNewestFirst(t *testing.T) {
	api, base := serveMock(t, mockapi.Config{Records: 230, Seed: 22})
	p := &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: base + mockapi.PathNewestFirst},
		Size:      40,
		SizeParam: strategies.Query("per_page"),
		Response:  strategies.Shape[mockapi.User]{ItemsPath: "data"},
		Window:    strategies.Window[mockapi.User]{NewestFirst: stamp},
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
			Request:   strategies.Request{URL: base + mockapi.PathPageNumber},
			Size:      50,
			SizeParam: strategies.Query("per_page"),
			Response: strategies.Shape[mockapi.User]{
				ItemsPath:      "data",
				TotalPagesPath: "total_pages",
			},
			Window: strategies.Window[mockapi.User]{
				SinceParam: strategies.Query("updated_since"),
				Lookback:   tt.lookback,
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
