package strategies_test

// The four cases of checkpoint integrity, end to end: the mock API on
// 127.0.0.1, the strategies, the runner and SQLite files. No later run may
// skip or repeat a record; where the settings make that impossible, the
// run fails with a typed error instead.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// usersTable is the mock API's record as a table named name.
func usersTable(name string) *schema.Mapping[mockapi.User] {
	return schema.Must(schema.Bind[mockapi.User](schema.Table{
		Name:       name,
		PrimaryKey: []string{"id"},
		Columns: []schema.Column{
			{Name: "id", Type: schema.String}, {Name: "name", Type: schema.String},
			{Name: "email", Type: schema.String}, {Name: "address", Type: schema.String},
			{Name: "company", Type: schema.String}, {Name: "job", Type: schema.String},
			{Name: "createdAt", Type: schema.UTCDatetime}, {Name: "updatedAt", Type: schema.UTCDatetime},
		},
	}))
}

// counting is an SQLite sink that counts the deliveries of every record,
// by id, across runs: the sink's own view of duplicates.
type counting struct {
	*sqlite.Sink[mockapi.User]
	mu    sync.Mutex
	runs  []map[string]int // deliveries by id, one map a run
	total map[string]int
}

func (c *counting) newRun() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs = append(c.runs, make(map[string]int))
}

func (c *counting) Commit(ctx context.Context, items []mockapi.User, cp paginate.Checkpoint) error {
	if err := c.Sink.Commit(ctx, items, cp); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	run := c.runs[len(c.runs)-1]
	for _, u := range items {
		run[u.ID]++
		c.total[u.ID]++
	}
	return nil
}

// openTable opens the sink of table in the SQLite file at path.
func openTable(t *testing.T, db *sql.DB, table string) *counting {
	t.Helper()
	s, err := sqlite.New(context.Background(), db, usersTable(table), sqlite.Config[mockapi.User]{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &counting{Sink: s, total: make(map[string]int)}
}

func openDB(t *testing.T, name string) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readTable returns the rows of table, in the dataset's order
// (updatedAt, id).
func readTable(t *testing.T, db *sql.DB, table string) []mockapi.User {
	t.Helper()
	rows, err := db.Query(`SELECT id, name, email, address, company, job, createdAt, updatedAt FROM "` + table + `"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []mockapi.User
	for rows.Next() {
		var u mockapi.User
		var created, updated string
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Address, &u.Company, &u.Job, &created, &updated); err != nil {
			t.Fatal(err)
		}
		if u.CreatedAt, err = time.Parse(sqlite.DatetimeLayout, created); err != nil {
			t.Fatal(err)
		}
		if u.UpdatedAt, err = time.Parse(sqlite.DatetimeLayout, updated); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b mockapi.User) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// serveMock serves a mock API on 127.0.0.1 for the test, counting the
// requests it answers.
func serveMock(t *testing.T, cfg mockapi.Config) (*mockapi.Server, string) {
	t.Helper()
	api := mockapi.New(cfg)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return api, srv.URL
}

// pageNumberOf is the seed's page-number paginator on the mock API.
func pageNumberOf(base string, size int) *strategies.PageNumber[mockapi.User] {
	return &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: base + mockapi.PathPageNumber},
		Size:      size,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
			TotalItemsPath: "total_items",
		},
		Window: strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
	}
}

func stamp(u mockapi.User) string { return u.UpdatedAt.UTC().Format(stampLayout) }

// cancelAfter returns options that cancel the run once n pages are
// committed, the way a crash or a Ctrl-C stops a sync part way.
func cancelAfter(n int, opts paginate.Options[mockapi.User]) (context.Context, paginate.Options[mockapi.User]) {
	ctx, cancel := context.WithCancel(context.Background())
	opts.Group = paginate.Group{Pages: 1} // a group commit would take the pages after n too
	opts.Observe = func(e paginate.Event) {
		if e.Kind == paginate.EventPageCommitted && e.Pages >= n {
			cancel()
		}
	}
	return ctx, opts
}

// Case 1: two tables in one SQLite file, each synced without
// Options.Stream, never read each other's checkpoint: each stream is named
// after its table.
func TestIntegrityTwoTablesOneFile(t *testing.T) {
	api, base := serveMock(t, mockapi.Config{Records: 500, Seed: 10})
	db := openDB(t, "warehouse.db")
	a, b := openTable(t, db, "table_a"), openTable(t, db, "table_b")
	p := pageNumberOf(base, 40)
	opts := paginate.Options[mockapi.User]{HighWater: stamp, Concurrency: 1}

	// Table A stops at page 5, its checkpoint at page 6.
	a.newRun()
	ctx, cancelled := cancelAfter(5, opts)
	res, err := paginate.Run(ctx, p, a, cancelled)
	if !errors.Is(err, context.Canceled) || res.Checkpoint.Position.Page != 6 || res.Stream != "table_a" {
		t.Fatalf("table A's first run: %v, stream %q, checkpoint at %v; want cancelled at page 6 of stream table_a", err, res.Stream, res.Checkpoint.Position)
	}
	// Table B starts from the start, not at table A's page 6.
	b.newRun()
	res, err = paginate.Run(context.Background(), p, b, opts)
	if err != nil || res.Resumed || res.Stream != "table_b" || res.Items != 500 {
		t.Fatalf("table B: %v, resumed %v, stream %q, %d items; want a full sync of 500 records into stream table_b", err, res.Resumed, res.Stream, res.Items)
	}
	// Table A resumes where it stopped.
	a.newRun()
	res, err = paginate.Run(context.Background(), p, a, opts)
	if err != nil || !res.Resumed || res.Items != 500-5*40 {
		t.Fatalf("table A resumed: %v, resumed %v, %d items; want the last %d records", err, res.Resumed, res.Items, 500-5*40)
	}
	want := api.Records()
	for _, table := range []string{"table_a", "table_b"} {
		if diff := cmp.Diff(want, readTable(t, db, table)); diff != "" {
			t.Errorf("%s differs from the dataset (-want +got):\n%s", table, diff)
		}
	}
	for _, c := range []*counting{a, b} {
		for id, n := range c.total {
			if n != 1 {
				t.Errorf("record %s delivered %d times", id, n)
			}
		}
	}
}

// Case 2: the page size changed between a crash and the resume. The resume
// fails with a typed error naming the size, and loses nothing; Restart
// syncs everything again; settings that do not move positions resume.
func TestIntegritySettingsChanged(t *testing.T) {
	api, base := serveMock(t, mockapi.Config{Records: 500, Seed: 11, MaxPerPage: 100})
	crashed := func(t *testing.T) (*sql.DB, *counting) {
		db := openDB(t, "w.db")
		s := openTable(t, db, "user")
		s.newRun()
		ctx, opts := cancelAfter(5, paginate.Options[mockapi.User]{HighWater: stamp, Concurrency: 1})
		res, err := paginate.Run(ctx, pageNumberOf(base, 50), s, opts)
		if !errors.Is(err, context.Canceled) || res.Checkpoint.Position.Page != 6 {
			t.Fatalf("crashed run: %v at %v, want cancelled at page 6", err, res.Checkpoint.Position)
		}
		return db, s
	}
	opts := paginate.Options[mockapi.User]{HighWater: stamp}

	t.Run("size changed", func(t *testing.T) {
		db, s := crashed(t)
		s.newRun()
		res, err := paginate.Run(context.Background(), pageNumberOf(base, 100), s, opts)
		var mm *paginate.MismatchError
		if !errors.Is(err, paginate.ErrCheckpointMismatch) || !errors.As(err, &mm) {
			t.Fatalf("resume with Size 100: %v (stop %v, %d items), want ErrCheckpointMismatch", err, res.Stop, res.Items)
		}
		if diff := cmp.Diff([]paginate.Change{{Part: "size", Saved: "50", Now: "100"}}, mm.Changes); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		if !strings.Contains(err.Error(), `size "50", now "100"`) {
			t.Errorf("error %q does not name the size", err)
		}
		if res.Items != 0 || len(readTable(t, db, "user")) != 250 {
			t.Errorf("the refused resume wrote %d items; the table holds %d rows, want 250", res.Items, len(readTable(t, db, "user")))
		}

		s.newRun()
		opts := opts
		opts.Restart = true
		res, err = paginate.Run(context.Background(), pageNumberOf(base, 100), s, opts)
		if err != nil || res.Restarted == nil || res.Resumed || res.Items != 500 || !res.Stop.Complete() {
			t.Fatalf("Restart: %v, restarted %v, resumed %v, %d items, stop %v; want a full sync", err, res.Restarted, res.Resumed, res.Items, res.Stop)
		}
		if diff := cmp.Diff(api.Records(), readTable(t, db, "user")); diff != "" {
			t.Errorf("table differs from the dataset (-want +got):\n%s", diff)
		}
	})

	t.Run("client, limiter and retries changed", func(t *testing.T) {
		db, s := crashed(t)
		s.newRun()
		p := pageNumberOf(base, 50)
		p.Request.Client = &http.Client{Timeout: time.Minute}
		p.Limits.Rate = rate.NewLimiter(rate.Inf, 1)
		p.Request.Header = http.Header{"User-Agent": {"pagekit-test"}}
		opts := opts
		opts.Retry = paginate.Retry{MaxAttempts: 7}
		opts.Concurrency = 2
		res, err := paginate.Run(context.Background(), p, s, opts)
		if err != nil || !res.Resumed || res.Items != 250 {
			t.Fatalf("resume: %v, resumed %v, %d items; want the last 250", err, res.Resumed, res.Items)
		}
		if diff := cmp.Diff(api.Records(), readTable(t, db, "user")); diff != "" {
			t.Errorf("table differs from the dataset (-want +got):\n%s", diff)
		}
	})
}

// clampedRuns syncs a server that answers past-the-end pages with its last
// page and reports no totals, six times, growing the source between runs,
// and checks after each run that the table equals the source and that no
// record was delivered twice: within a run never, and across runs only
// those at the mark the run started from, which the inclusive
// updated_since filter reads again by design. check says how each run
// must end.
func clampedRuns(t *testing.T, opts paginate.Options[mockapi.User], check func(t *testing.T, run int, res paginate.Result, err error)) {
	api, base := serveMock(t, mockapi.Config{Records: 500, Seed: 12, ClampPages: true, NoTotals: true})
	db := openDB(t, "w.db")
	s := openTable(t, db, "user")
	p := &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: base + mockapi.PathPageNumber},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response:  strategies.Shape[mockapi.User]{ItemsPath: "data"},
		Window:    strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
	}
	opts.HighWater = stamp
	since := ""
	for run := range 6 {
		if run > 0 {
			for range 10 * run {
				api.Insert(1) // one new updatedAt each
			}
		}
		s.newRun()
		requests := api.Stats().OK
		res, err := paginate.Run(context.Background(), p, s, opts)
		check(t, run, res, err)
		if n := api.Stats().OK - requests; n > int64(api.Len()/50+3) {
			t.Errorf("run %d: %d requests for %d records", run, n, api.Len())
		}
		if diff := cmp.Diff(api.Records(), readTable(t, db, "user")); diff != "" {
			t.Fatalf("run %d: table differs from the source (-want +got):\n%s", run, diff)
		}
		for id, n := range s.runs[run] {
			if n > 1 {
				t.Errorf("run %d delivered %s %d times", run, id, n)
			}
			if s.total[id] > n {
				if u, _ := api.Get(id); stamp(u) != since {
					t.Errorf("run %d delivered %s again (updatedAt %s); only records at the mark %q may come again", run, id, stamp(u), since)
				}
			}
		}
		since = res.Checkpoint.Position.Since
		if want := stamp(api.Records()[api.Len()-1]); since != want {
			t.Errorf("run %d: next sync since %q, want the newest record's %q", run, since, want)
		}
	}
}

// Case 3: a server that clamps past-the-end pages, no totals, Options.Key
// set. The repeated last page is loud by default and ends the data with
// RepeatedPageEnds; either way later runs, with the source growing, miss
// nothing and deliver nothing twice.
func TestIntegrityClampedServer(t *testing.T) {
	key := func(u mockapi.User) string { return u.ID }
	t.Run("loud", func(t *testing.T) {
		clampedRuns(t, paginate.Options[mockapi.User]{Key: key}, func(t *testing.T, run int, res paginate.Result, err error) {
			if !errors.Is(err, paginate.ErrLoop) || res.Stop != paginate.StopLoopDetected {
				t.Fatalf("run %d: %v, stop %v; want ErrLoop", run, err, res.Stop)
			}
			if !strings.Contains(err.Error(), "RepeatedPageEnds") {
				t.Errorf("run %d: error %q does not point at Options.Checks.RepeatedPageEnds", run, err)
			}
		})
	})
	t.Run("RepeatedPageEnds", func(t *testing.T) {
		clampedRuns(t, paginate.Options[mockapi.User]{Key: key, Checks: paginate.Checks[mockapi.User]{RepeatedPageEnds: true}}, func(t *testing.T, run int, res paginate.Result, err error) {
			if err != nil || res.Stop != paginate.StopRepeatedPage || !res.Stop.Complete() {
				t.Fatalf("run %d: %v, stop %v; want a complete sync ended by StopRepeatedPage", run, err, res.Stop)
			}
		})
	})
}

// Case 4: the same server without Options.Key. The strategy's fingerprint
// of the raw records stops the run at the first repeat, instead of
// re-reading the clamped page without end.
func TestIntegrityClampedServerNoKey(t *testing.T) {
	clampedRuns(t, paginate.Options[mockapi.User]{}, func(t *testing.T, run int, res paginate.Result, err error) {
		if !errors.Is(err, paginate.ErrLoop) || res.Stop != paginate.StopLoopDetected {
			t.Fatalf("run %d: %v, stop %v; want ErrLoop", run, err, res.Stop)
		}
	})
}

// The page fingerprint a checkpoint keeps is the strategy's, from the raw
// bytes of the records as served, so that another process recognises the
// page.
func TestIntegrityFingerprintIsRawBytes(t *testing.T) {
	_, base := serveMock(t, mockapi.Config{Records: 100, Seed: 13})
	db := openDB(t, "w.db")
	s := openTable(t, db, "user")
	s.newRun()
	p := pageNumberOf(base, 20)
	res, err := paginate.Run(context.Background(), p, s, paginate.Options[mockapi.User]{Limits: paginate.Limits{MaxPages: 2}, Concurrency: 1})
	if err != nil || res.Stop != paginate.StopMaxPages {
		t.Fatalf("Run: %v, stop %v", err, res.Stop)
	}
	resp, err := http.Get(base + mockapi.PathPageNumber + "?per_page=20&page=2")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	var h paginate.PageHash
	h.Write(body.Data)
	if got := res.Checkpoint.LastPage; got != h.Sum64() {
		t.Errorf("checkpoint's last page fingerprint %x, want %x, the PageHash of page 2's records as served", got, h.Sum64())
	}
	if res.Checkpoint.Position.Page != 3 {
		t.Errorf("checkpoint at %v, want page 3", res.Checkpoint.Position)
	}
}
