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
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, exampletest.LeakOptions...) }

var variants = []struct{ name, path string }{
	{"url", mockapi.PathNextPageURL},
	{"link", mockapi.PathLinkHeader},
	{"token", mockapi.PathNextToken},
}

func testConfig(t *testing.T, variant, endpoint string) config {
	return config{
		Variant: variant,
		Flags: console.Flags{
			URL:     endpoint,
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
	mocks := []struct {
		name string
		cfg  mockapi.Config
	}{
		{"plain", mockapi.Config{Records: 1000, Seed: 2}},
		{"faults", mockapi.Config{Records: 1000, Seed: 2, ErrorRate: 0.2, ThrottleRate: 0.05, RetryAfter: -1, DropRate: 0.05}},
	}
	for _, v := range variants {
		for _, m := range mocks {
			t.Run(v.name+"/"+m.name, func(t *testing.T) {
				api := exampletest.Serve(t, m.cfg)
				cfg := testConfig(t, v.name, api.URL+v.path)
				res, out := syncOK(t, cfg)
				if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
					t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
				}
				if res.Items != 1000 || res.Pages != 20 || res.Stop != paginate.StopNoNextToken || res.DriftCount != 0 {
					t.Errorf("%d items in %d pages, stop %v, %d drifts; want 1000 in 20, no next token, none", res.Items, res.Pages, res.Stop, res.DriftCount)
				}
				if m.cfg.ErrorRate > 0 && res.Retries == 0 {
					t.Error("no retries with faults injected")
				}
				if !strings.Contains(out, "records written  1000") || !strings.Contains(out, `Resulting table "user"`) {
					t.Errorf("summary:\n%s", out)
				}
				for _, r := range api.Requests() {
					if r.Path != v.path {
						t.Fatalf("request to %s, want %s", r.Path, v.path)
					}
				}
			})
		}
	}
}

// TestInProcessMock runs each variant with no -url.
func TestInProcessMock(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			cfg := testConfig(t, v.name, "")
			cfg.Mock = mockapi.Config{Records: 123, Seed: 5}
			syncOK(t, cfg)
			if diff := cmp.Diff(exampletest.ByID(mockapi.New(cfg.Mock).Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
				t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
			}
		})
	}
}

func TestIncremental(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			api := exampletest.Serve(t, mockapi.Config{Records: 300, Seed: 3})
			cfg := testConfig(t, v.name, api.URL+v.path)
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
			reqs := api.Requests()
			if got := reqs[0].Query.Get("updated_since"); got != first.Checkpoint.HighWater {
				t.Errorf("incremental run sent updated_since=%q, want %q", got, first.Checkpoint.HighWater)
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
		})
	}
}

func TestResume(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 4, Latency: 2 * time.Millisecond})
			cfg := testConfig(t, v.name, api.URL+v.path)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			api.CancelOnceCommitted(t, 8, cfg.DB, cancel)
			var out bytes.Buffer
			res, err := run(ctx, cfg, &out, &out)
			if !errors.Is(err, context.Canceled) || res.Checkpoint.Position.Token == "" {
				t.Fatalf("cancelled run: %v, checkpoint %+v; want context.Canceled and a token", err, res.Checkpoint)
			}
			rows := len(exampletest.ReadUsers(t, cfg.DB))
			api.Requests()
			res, _ = syncOK(t, cfg)
			if !res.Resumed || res.Items != int64(1000-rows) {
				t.Errorf("second run: resumed %v, %d items; want true, %d", res.Resumed, res.Items, 1000-rows)
			}
			if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
				t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
			}
		})
	}
}

func TestBadVariant(t *testing.T) {
	cfg := testConfig(t, "carrier-pigeon", "http://127.0.0.1:1/x")
	if _, err := run(context.Background(), cfg, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "carrier-pigeon") {
		t.Errorf("run: %v, want an error naming the variant", err)
	}
}

// The examples all write ./warehouse.db by default. A checkpoint that
// another example left there, such as the flagship's after a Ctrl-C, must not
// steer this one: its positions mean nothing to this paginator.
func TestOtherExampleCheckpoint(t *testing.T) {
	ctx := context.Background()
	api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 2})
	cfg := testConfig(t, "url", api.URL+mockapi.PathNextPageURL)
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
