package main

import (
	"bytes"
	"context"
	"errors"
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
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, exampletest.LeakOptions...) }

func testConfig(t *testing.T, base string) config {
	return config{
		Flags: console.Flags{
			URL:         base + mockapi.PathOffset,
			DB:          filepath.Join(t.TempDir(), "warehouse.db"),
			PerPage:     50,
			Concurrency: 4,
			Show:        5,
		},
		Retry: paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxAttempts: 10},
	}
}

func syncOK(t *testing.T, cfg config) (paginate.Result, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	res, err := run(context.Background(), cfg, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	return res, stdout.String()
}

func TestSync(t *testing.T) {
	tests := []struct {
		name  string
		mock  mockapi.Config
		pages int
	}{
		{"plain", mockapi.Config{Records: 1000, Seed: 2}, 20},
		// The server serves 20 where 50 were asked: offsets advance by 20.
		{"capped", mockapi.Config{Records: 1000, Seed: 2, PageSizeCap: 20}, 50},
		{"faults", mockapi.Config{Records: 1000, Seed: 2, ErrorRate: 0.2, ThrottleRate: 0.05, RetryAfter: -1, DropRate: 0.05}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := exampletest.Serve(t, tt.mock)
			cfg := testConfig(t, api.URL)
			res, out := syncOK(t, cfg)
			if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
				t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
			}
			if res.Items != 1000 || res.Pages != tt.pages || res.Stop != paginate.StopTotalReached {
				t.Errorf("%d items in %d pages, stop %v; want 1000 in %d, total reached", res.Items, res.Pages, res.Stop, tt.pages)
			}
			if !strings.Contains(out, "records written  1000") || !strings.Contains(out, `Resulting table "user"`) {
				t.Errorf("summary:\n%s", out)
			}
			var offsets []int
			for _, r := range api.Requests() {
				if r.Status == 200 {
					o, _ := strconv.Atoi(r.Query.Get("offset"))
					offsets = append(offsets, o)
				}
			}
			slices.Sort(offsets)
			offsets = slices.Compact(offsets)
			step := 1000 / tt.pages
			for i, o := range offsets {
				if o != i*step {
					t.Fatalf("offsets requested %v, want steps of %d", offsets, step)
				}
			}
		})
	}
}

func TestIncremental(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 300, Seed: 3})
	cfg := testConfig(t, api.URL)
	first, _ := syncOK(t, cfg)
	before := api.Records()
	api.Requests()
	var want []string
	for _, u := range api.Update(10) {
		want = append(want, u.ID)
	}
	for _, u := range before {
		if u.UpdatedAt.Format(sinceLayout) == first.Checkpoint.HighWater && !slices.Contains(want, u.ID) {
			want = append(want, u.ID)
		}
	}
	slices.Sort(want)
	second, _ := syncOK(t, cfg)
	if diff := cmp.Diff(want, exampletest.ServedIDs(api.Requests())); diff != "" {
		t.Errorf("records fetched by the incremental run (-want +got):\n%s", diff)
	}
	if second.Items != int64(len(want)) {
		t.Errorf("incremental run upserted %d, want %d", second.Items, len(want))
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
}

func TestResume(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 4, Latency: 2 * time.Millisecond})
	cfg := testConfig(t, api.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api.CancelOnceCommitted(t, 8, cfg.DB, cancel)
	var out bytes.Buffer
	res, err := run(ctx, cfg, &out, &out)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	offset := res.Checkpoint.Position.Offset
	if rows := exampletest.ReadUsers(t, cfg.DB); offset == 0 || len(rows) != int(offset) {
		t.Fatalf("cancelled run left %d rows and a checkpoint at offset %d", len(rows), offset)
	}
	// The cancelled run's requests on their way are answered before, or
	// never: the first request logged next is the resumed run's.
	api.Restart()
	cfg.URL = api.URL + mockapi.PathOffset
	api.Requests()
	res, _ = syncOK(t, cfg)
	if got := api.Requests()[0].Query.Get("offset"); !res.Resumed || got != strconv.FormatInt(offset, 10) {
		t.Errorf("second run: resumed %v at offset %s; want true at %d", res.Resumed, got, offset)
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
}

// The examples all write ./warehouse.db by default. A checkpoint that
// another example left there, such as the flagship's after a Ctrl-C, must not
// steer this one: its positions mean nothing to this paginator.
func TestOtherExampleCheckpoint(t *testing.T) {
	ctx := context.Background()
	api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 2})
	cfg := testConfig(t, api.URL)
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sqlite.New(ctx, db, schema.Must(schema.Derive[User]("user")), sqlite.Config[User]{})
	if err != nil {
		t.Fatal(err)
	}
	left := paginate.Checkpoint{Stream: "user", Position: paginate.Position{Page: 7, Offset: 300, Since: "2022-06-01T00:00:00Z"}, HighWater: "2030-01-01T00:00:00Z"}
	if err := other.Save(ctx, left); err != nil {
		t.Fatal(err)
	}
	other.Close()
	db.Close()
	res, _ := syncOK(t, cfg)
	if res.Items != 1000 || res.Resumed {
		t.Errorf("%d items, resumed %v; want a full sync of 1000 records", res.Items, res.Resumed)
	}
}
