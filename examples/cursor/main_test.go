package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
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
	"github.com/pagekit/pagekit/strategies"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, exampletest.LeakOptions...) }

func testConfig(t *testing.T, base string) config {
	return config{
		Flags: console.Flags{
			URL:     base + mockapi.PathPageNumber,
			DB:      filepath.Join(t.TempDir(), "warehouse.db"),
			PerPage: 50,
			Show:    5,
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
		name string
		mock mockapi.Config
	}{
		{"plain", mockapi.Config{Records: 1000, Seed: 2}},
		// Ties across page boundaries, up to 40 records (a page is 50):
		// the keyset endpoint would lose some of them; the cursor does not.
		{"ties", mockapi.Config{Records: 1000, Seed: 2, TieRate: 0.3, TieGroups: []mockapi.TieGroup{{At: 45, Size: 10}, {At: 180, Size: 40}, {At: 490, Size: 25}}}},
		{"faults", mockapi.Config{Records: 1000, Seed: 2, ErrorRate: 0.2, ThrottleRate: 0.05, RetryAfter: -1, DropRate: 0.05}},
		// Records updated and inserted while the walk goes on move past
		// the cursor and are read when it gets there.
		{"mutating", mockapi.Config{Records: 1000, Seed: 2, Mutate: mockapi.Mutation{Every: 2, Updates: 3, Inserts: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := exampletest.Serve(t, tt.mock)
			cfg := testConfig(t, api.URL)
			res, out := syncOK(t, cfg)
			if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
				t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
			}
			if res.Stop != paginate.StopLastPage || res.DriftCount != 0 {
				t.Errorf("stop %v, %d drifts; want last page, none", res.Stop, res.DriftCount)
			}
			if st := api.Stats(); tt.mock.Mutate.Every > 0 && st.Updated == 0 || tt.mock.ErrorRate > 0 && res.Retries == 0 {
				t.Errorf("the faults did not happen: %+v, %d retries", st, res.Retries)
			}
			if !strings.Contains(out, `Resulting table "user"`) {
				t.Errorf("summary:\n%s", out)
			}
			for _, r := range api.Requests() {
				if r.Query.Has("page") || r.Query.Get("per_page") != "50" || r.Query.Get("updated_since") == "" {
					t.Fatalf("request %q is not a keyset request", r.RawQ)
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
		if updated(User{UpdatedAt: u.UpdatedAt}) == first.Checkpoint.HighWater && !slices.Contains(want, u.ID) {
			want = append(want, u.ID)
		}
	}
	slices.Sort(want)
	second, _ := syncOK(t, cfg)
	reqs := api.Requests()
	if got := reqs[0].Query.Get("updated_since"); got != first.Checkpoint.HighWater {
		t.Errorf("incremental run started at updated_since=%q, want %q", got, first.Checkpoint.HighWater)
	}
	if diff := cmp.Diff(want, exampletest.ServedIDs(reqs)); diff != "" {
		t.Errorf("records fetched by the incremental run (-want +got):\n%s", diff)
	}
	if second.Items != int64(len(want)) {
		t.Errorf("incremental run upserted %d, want %d", second.Items, len(want))
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
}

// TestTieTooLarge: 60 records share one updatedAt and a page holds 50; the
// sync stops with a clear error instead of looping or skipping, and what
// was committed before stays.
func TestTieTooLarge(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 300, Seed: 3, TieGroups: []mockapi.TieGroup{{At: 120, Size: 60}}})
	cfg := testConfig(t, api.URL)
	var out bytes.Buffer
	res, err := run(context.Background(), cfg, &out, &out)
	if !errors.Is(err, strategies.ErrTieTooLarge) || res.Stop != paginate.StopError {
		t.Fatalf("run: stop %v, err %v; want an error, ErrTieTooLarge", res.Stop, err)
	}
	if rows := exampletest.ReadUsers(t, cfg.DB); len(rows) < 100 {
		t.Errorf("%d rows committed before the tie, want at least 100", len(rows))
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
	if !errors.Is(err, context.Canceled) || res.Checkpoint.Position.Token == "" {
		t.Fatalf("cancelled run: %v, checkpoint %+v; want context.Canceled and a cursor", err, res.Checkpoint)
	}
	res, _ = syncOK(t, cfg)
	if !res.Resumed {
		t.Error("second run did not resume")
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
