package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	if code == 0 {
		if err := goleak.Find(exampletest.LeakOptions...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testConfig is the flags' defaults, against the API at base, with quick
// retries.
func testConfig(t *testing.T, base string) config {
	return config{
		Flags: console.Flags{
			URL:         base + mockapi.PathPageNumber,
			DB:          filepath.Join(t.TempDir(), "warehouse.db"),
			PerPage:     50,
			Concurrency: 4,
			Show:        5,
		},
		Retry: paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxAttempts: 10},
	}
}

// syncOK runs the example and fails the test on an error.
func syncOK(t *testing.T, cfg config) (paginate.Result, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	res, err := run(context.Background(), cfg, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	return res, stdout.String()
}

func TestFullSync(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 7})
	cfg := testConfig(t, api.URL)
	res, out := syncOK(t, cfg)

	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
	if res.Items != 1000 || res.Pages != 20 || res.Stop != paginate.StopTotalReached || res.DriftCount != 0 {
		t.Errorf("result: %d items, %d pages, stop %v, %d drifts; want 1000, 20, total reached, 0", res.Items, res.Pages, res.Stop, res.DriftCount)
	}
	for _, want := range []string{"records written  1000", "pages            20", "stop reason      total reached", `Resulting table "user"`} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}

	// The seed's requests: the first without a page number, then pages 2
	// to 20 (in any order: they are fetched in parallel).
	reqs := api.Requests()
	const seedQuery = "order_by=updatedAt&order_type=asc&updated_since=0001-01-01T00%3A00%3A00Z&per_page=50"
	if len(reqs) != 20 || reqs[0].RawQ != seedQuery {
		t.Fatalf("%d requests, the first %q; want 20, the first %q", len(reqs), reqs[0].RawQ, seedQuery)
	}
	var pages []string
	for _, r := range reqs[1:] {
		if q, _ := strings.CutSuffix(r.RawQ, "&page="+r.Query.Get("page")); q != seedQuery {
			t.Errorf("request %q is not the seed's query and a page", r.RawQ)
		}
		pages = append(pages, r.Query.Get("page"))
	}
	slices.SortFunc(pages, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	var want []string
	for p := 2; p <= 20; p++ {
		want = append(want, strconv.Itoa(p))
	}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages requested (-want +got):\n%s", diff)
	}
}

// TestSchema checks the table has the seed's columns, key and types.
func TestSchema(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 10, Seed: 1})
	cfg := testConfig(t, api.URL)
	syncOK(t, cfg)
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, type, pk FROM pragma_table_info('user') ORDER BY cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name, typ string
		var pk int
		if err := rows.Scan(&name, &typ, &pk); err != nil {
			t.Fatal(err)
		}
		got = append(got, name+" "+typ+" pk="+strconv.Itoa(pk))
	}
	want := []string{"id TEXT pk=1", "name TEXT pk=0", "email TEXT pk=0", "address TEXT pk=0", "company TEXT pk=0",
		"job TEXT pk=0", "updatedAt TEXT pk=0", "createdAt TEXT pk=0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

// TestInProcessMock runs with no -url, as `go run ./examples/pagenumber`
// does.
func TestInProcessMock(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.URL = ""
	cfg.Mock = mockapi.Config{Records: 321, Seed: 3}
	res, _ := syncOK(t, cfg)
	if diff := cmp.Diff(exampletest.ByID(mockapi.New(cfg.Mock).Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
	if res.Items != 321 {
		t.Errorf("%d items upserted, want 321", res.Items)
	}
}

// TestIncremental: after the API updates 10 records, the next run fetches
// exactly those and the records at the saved high-water mark, which the
// inclusive updated_since filter returns again.
func TestIncremental(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 500, Seed: 11})
	cfg := testConfig(t, api.URL)
	first, _ := syncOK(t, cfg)
	before := api.Records()
	mark := first.Checkpoint.HighWater
	if want := before[len(before)-1].UpdatedAt.Format(sinceLayout); mark != want {
		t.Fatalf("high-water mark %q, want the last updatedAt %q", mark, want)
	}
	api.Requests()

	updated := api.Update(10)
	var want []string
	for _, u := range updated {
		want = append(want, u.ID)
	}
	for _, u := range before {
		if u.UpdatedAt.Format(sinceLayout) == mark && !slices.Contains(want, u.ID) {
			want = append(want, u.ID) // the boundary record(s)
		}
	}
	slices.Sort(want)

	second, _ := syncOK(t, cfg)
	reqs := api.Requests()
	if got := reqs[0].Query.Get("updated_since"); got != mark {
		t.Errorf("incremental run sent updated_since=%q, want the mark %q", got, mark)
	}
	if diff := cmp.Diff(want, exampletest.ServedIDs(reqs)); diff != "" {
		t.Errorf("records fetched by the incremental run (-want +got):\n%s", diff)
	}
	if second.Items != int64(len(want)) {
		t.Errorf("incremental run upserted %d records, want %d", second.Items, len(want))
	}
	table := exampletest.ReadUsers(t, cfg.DB)
	if diff := cmp.Diff(exampletest.ByID(api.Records()), table); diff != "" {
		t.Errorf("table differs from the updated dataset (-dataset +table):\n%s", diff)
	}
	if len(table) != 500 {
		t.Errorf("%d rows, want 500 (no duplicates)", len(table))
	}
}

// TestFaults: 20% of requests fail with 503 and some start bursts of 429s;
// the sync retries through them and the table is the same.
func TestFaults(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{
		Records: 2000, Seed: 5,
		ErrorRate: 0.2, ErrorCodes: []int{503},
		ThrottleRate: 0.05, ThrottleBurst: 3, RetryAfter: -1, // "Retry-After: 0"
	})
	cfg := testConfig(t, api.URL)
	res, _ := syncOK(t, cfg)
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
	st := api.Stats()
	if st.Errors == 0 || st.Throttled == 0 || int64(res.Retries) != st.Errors+st.Throttled {
		t.Errorf("%d retries for %d injected 503s and %d 429s; want one retry each, and some of both", res.Retries, st.Errors, st.Throttled)
	}
	if res.Items != 2000 || res.DriftCount != 0 {
		t.Errorf("%d items, %d drifts; want 2000, 0", res.Items, res.DriftCount)
	}
}

// TestResume: a run cancelled part way leaves the rows of the pages it
// committed and a checkpoint at the next page; the next run starts there
// and completes the table.
func TestResume(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 9, Latency: 2 * time.Millisecond})
	cfg := testConfig(t, api.URL)
	cfg.Concurrency = 1

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api.CancelOnceCommitted(t, 7, cfg.DB, cancel)
	var out bytes.Buffer
	res, err := run(ctx, cfg, &out, &out)
	if !errors.Is(err, context.Canceled) || res.Stop != paginate.StopCancelled {
		t.Fatalf("cancelled run: stop %v, err %v; want cancelled, context.Canceled", res.Stop, err)
	}
	next := res.Checkpoint.Position.Page
	if saved, _ := sqliteCheckpoint(t, cfg.DB); saved != res.Checkpoint {
		t.Errorf("result says checkpoint %+v, the database has %+v", res.Checkpoint, saved)
	}
	rows := exampletest.ReadUsers(t, cfg.DB)
	if next < 2 || len(rows) != int(next-1)*50 {
		t.Fatalf("cancelled run left %d rows and a checkpoint at page %d; want (page-1)*50 rows", len(rows), next)
	}
	if !strings.Contains(out.String(), "resumes at page "+strconv.FormatInt(next, 10)) {
		t.Errorf("summary does not say where the next run resumes:\n%s", out.String())
	}
	// The cancelled run's requests on their way are answered before, or
	// never: the first request logged next is the resumed run's.
	api.Restart()
	cfg.URL = api.URL + mockapi.PathPageNumber
	api.Requests()

	res, _ = syncOK(t, cfg)
	if !res.Resumed || res.Items != 1000-(next-1)*50 {
		t.Errorf("resumed run: resumed %v, %d items; want true, %d", res.Resumed, res.Items, 1000-(next-1)*50)
	}
	if got := api.Requests()[0].Query.Get("page"); got != strconv.FormatInt(next, 10) {
		t.Errorf("resumed run started at page %s, want %d", got, next)
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
}
