package riverjob_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The Limiter's shared transport keeps idle connections, and
		// their goroutines, by design.
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	)
}

const (
	users         = 12 // top-level stream: 2 pages of 10
	ordersPerUser = 12 // a partition of the child stream: 3 pages of 5
	sinceLayout   = "2006-01-02T15:04:05Z"
)

var fastRetry = paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxAttempts: 3}

// api is the mock API on 127.0.0.1 with faults of the tests' own, chosen
// by path.
type api struct {
	*mockapi.Server
	url string

	mu sync.Mutex
	// status answers every request of a path with a status.
	status map[string]int
	// unavailable answers this many requests of a path with 503.
	unavailable map[string]int
	// before, when set, runs before each request is served.
	before func(r *http.Request)
	// afterRead, when set, runs once the mock has answered a request and
	// before the answer is sent: what the answer holds was read from the
	// data before it runs.
	afterRead func(r *http.Request)
}

func newAPI(t testing.TB) *api {
	a := &api{
		Server:      mockapi.New(mockapi.Config{Records: users, Seed: 7, OrdersPerUser: ordersPerUser}),
		status:      make(map[string]int),
		unavailable: make(map[string]int),
	}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	before, afterRead := a.before, a.afterRead
	status := a.status[r.URL.Path]
	if status == 0 && a.unavailable[r.URL.Path] > 0 {
		a.unavailable[r.URL.Path]--
		status = http.StatusServiceUnavailable
	}
	a.mu.Unlock()
	if before != nil {
		before(r)
	}
	if status != 0 {
		http.Error(w, `{"error":"injected"}`, status)
		return
	}
	if afterRead == nil {
		a.Server.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	a.Server.ServeHTTP(rec, r)
	afterRead(r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (a *api) set(f func(a *api)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

// userID returns the id of the i-th user of the mock.
func (a *api) userID(i int) string { return a.Records()[i].ID }

// connector returns the connector "shop": users (page number, incremental)
// and orders, a child of users, writing to the destinations given.
func (a *api) connector(t testing.TB, userDst paginate.Sink[mockapi.User], orderDst paginate.Sink[mockapi.Order]) *connector.Connector {
	t.Helper()
	lim := connector.NewLimiter(connector.Limits{InFlight: 4})
	users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: a.url + mockapi.PathPageNumber, Client: lim.Client(), Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}}},
		Size:      10,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
		Window: strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
	}, userDst, paginate.Options[mockapi.User]{
		HighWater: func(u mockapi.User) string { return u.UpdatedAt.UTC().Format(sinceLayout) },
		Key:       func(u mockapi.User) string { return u.ID },
		Retry:     fastRetry,
	})
	orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users,
		Key:    func(u mockapi.User) string { return u.ID },
		Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
			return &strategies.PageNumber[mockapi.Order]{
				Request:   strategies.Request{URL: a.url + mockapi.OrdersPath(url.PathEscape(u.ID)), Client: lim.Client()},
				Size:      5,
				SizeParam: strategies.Query("per_page"),
				Response: strategies.Shape[mockapi.Order]{
					ItemsPath:      "data",
					TotalPagesPath: "total_pages",
				},
				Window: strategies.Window[mockapi.Order]{SinceParam: strategies.Query("updated_since")},
			}, nil
		},
	}, orderDst, paginate.Options[mockapi.Order]{
		HighWater: func(o mockapi.Order) string { return o.UpdatedAt.UTC().Format(sinceLayout) },
		Retry:     fastRetry,
	})
	c, err := connector.New(connector.Config{Limiter: lim}, users, orders)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// backend is River's database and the sinks' on one driver: PostgreSQL
// (TTx pgx.Tx) or SQLite (TTx *sql.Tx).
type backend[TTx any] struct {
	driver riverdriver.Driver[TTx]
	// schema is River's and the sinks' PostgreSQL schema.
	schema string
	// db reads the tables and River's.
	db *sql.DB
	// sinks returns the destinations of users and orders, each made
	// to complete its partitions' jobs.
	sinks func(t testing.TB) (paginate.Sink[mockapi.User], paginate.Sink[mockapi.Order])
	// bumpAttempt makes the partition's running job look as though
	// another worker had taken it over.
	bumpAttempt func(key string) error
}

var (
	userMapping  = schema.Must(schema.Derive[mockapi.User]("users", "id"))
	orderMapping = schema.Must(schema.Derive[mockapi.Order]("orders", "id"))
)

func newSQLite(t testing.TB) *backend[*sql.Tx] {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := riverjob.MigrateSQLite(ctx, db); err != nil {
		t.Fatal(err)
	}
	return &backend[*sql.Tx]{
		driver: riversqlite.New(db),
		db:     db,
		sinks: func(t testing.TB) (paginate.Sink[mockapi.User], paginate.Sink[mockapi.Order]) {
			u, err := sqlite.New(ctx, db, userMapping, sqlite.Config[mockapi.User]{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { u.Close() })
			o, err := sqlite.New(ctx, db, orderMapping, sqlite.Config[mockapi.Order]{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { o.Close() })
			return riverjob.Completing(u), riverjob.Completing(o)
		},
		bumpAttempt: func(key string) error {
			_, err := db.Exec(`UPDATE river_job SET attempt = attempt + 1 WHERE kind = ? AND json_extract(args, '$.key') = ? AND state = 'running'`,
				riverjob.KindPartition, key)
			return err
		},
	}
}

// postgresDSN returns PAGEKIT_POSTGRES_DSN, or skips the test.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("PAGEKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PAGEKIT_REQUIRE_POSTGRES=1 but PAGEKIT_POSTGRES_DSN is not set")
		}
		t.Skip("PostgreSQL tests need a server: set PAGEKIT_POSTGRES_DSN (.ci/run starts one and sets it)")
	}
	return dsn
}

// newPostgres returns a backend in a schema of its own of the database of
// PAGEKIT_POSTGRES_DSN, dropped when the test ends.
func newPostgres(t testing.TB) *backend[pgx.Tx] {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(postgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	// Each sink holds a connection; River needs a few more.
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	nsp := fmt.Sprintf("pk_riverjob_%08x", rand.Uint32())
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() {
		db.Close()
		if _, err := pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS "`+nsp+`" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", nsp, err)
		}
		pool.Close()
	})
	if _, err := pool.Exec(ctx, `CREATE SCHEMA "`+nsp+`"`); err != nil {
		t.Fatal(err)
	}
	if err := riverjob.MigratePostgres(ctx, pool, nsp); err != nil {
		t.Fatal(err)
	}
	return &backend[pgx.Tx]{
		driver: riverpgxv5.New(pool),
		schema: nsp,
		db:     db,
		sinks: func(t testing.TB) (paginate.Sink[mockapi.User], paginate.Sink[mockapi.Order]) {
			u, err := postgres.New(ctx, pool, userMapping, postgres.Config[mockapi.User]{Schema: nsp})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { u.Close() })
			o, err := postgres.New(ctx, pool, orderMapping, postgres.Config[mockapi.Order]{Schema: nsp})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { o.Close() })
			return riverjob.Completing(u), riverjob.Completing(o)
		},
		bumpAttempt: func(key string) error {
			_, err := pool.Exec(ctx, `UPDATE "`+nsp+`".river_job SET attempt = attempt + 1 WHERE kind = $1 AND args->>'key' = $2 AND state = 'running'`,
				riverjob.KindPartition, key)
			return err
		},
	}
}

// table returns "name", qualified with the backend's schema.
func (b *backend[TTx]) table(name string) string {
	if b.schema == "" {
		return `"` + name + `"`
	}
	return `"` + b.schema + `"."` + name + `"`
}

// shop is a connector's jobs on a started River client.
type shop[TTx any] struct {
	b      *backend[TTx]
	api    *api
	jobs   *riverjob.Jobs[TTx]
	client *river.Client[TTx]
}

// start returns the jobs of a connector of api's streams and a started
// client working them, with what config sets.
func start[TTx any](t *testing.T, b *backend[TTx], a *api, config func(*river.Config, *riverjob.Jobs[TTx])) *shop[TTx] {
	t.Helper()
	u, o := b.sinks(t)
	jobs, err := riverjob.New[TTx](riverjob.Config{
		Connectors: map[string]*connector.Connector{"shop": a.connector(t, u, o)},
		Logger:     testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	if err := jobs.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	cfg := &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:              workers,
		Schema:               b.schema,
		FetchCooldown:        5 * time.Millisecond,
		FetchPollInterval:    50 * time.Millisecond,
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: time.Minute,
		Logger:               testLogger(t),
		TestOnly:             true,
	}
	if config != nil {
		config(cfg, jobs)
	}
	client, err := river.NewClient(b.driver, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Queues == nil {
		return &shop[TTx]{b: b, api: a, jobs: jobs, client: client} // insert only
	}
	if err := client.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.StopAndCancel(ctx); err != nil {
			t.Errorf("stop the River client: %v", err)
		}
	})
	return &shop[TTx]{b: b, api: a, jobs: jobs, client: client}
}

// testLogger logs warnings and errors to the test's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var finalStates = []rivertype.JobState{rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded}

// wait waits until every job is finalized (completed, cancelled or
// discarded) and returns them all, in insertion order.
func (s *shop[TTx]) wait(t *testing.T, timeout time.Duration) []*rivertype.JobRow {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for {
		res, err := s.client.JobList(ctx, river.NewJobListParams().First(10_000))
		if err != nil {
			t.Fatal(err)
		}
		done := len(res.Jobs) > 0
		for _, j := range res.Jobs {
			done = done && slices.Contains(finalStates, j.State)
		}
		if done {
			return res.Jobs
		}
		if time.Now().After(deadline) {
			for _, j := range res.Jobs {
				t.Logf("job %d %s %s attempt %d errors %v", j.ID, j.Kind, j.State, j.Attempt, j.Errors)
			}
			t.Fatalf("jobs not all finalized after %v", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jobKey names a job for the tests: its kind and its partition.
func jobKey(t testing.TB, j *rivertype.JobRow) string {
	t.Helper()
	var a riverjob.PartitionArgs // ListArgs has a subset of its fields
	if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
		t.Fatal(err)
	}
	if a.Key != "" {
		return j.Kind + " " + a.Stream + "/" + a.Key
	}
	return j.Kind + " " + a.Stream
}

// checkTables compares the users and orders tables with the mock's data,
// leaving out the orders of the users skip names.
func (s *shop[TTx]) checkTables(t *testing.T, skip ...string) {
	t.Helper()
	var wantUsers, wantOrders []string
	for _, u := range s.api.Records() {
		wantUsers = append(wantUsers, u.ID+" "+u.Email)
		if slices.Contains(skip, u.ID) {
			continue
		}
		os, _ := s.api.Orders(u.ID)
		for _, o := range os {
			wantOrders = append(wantOrders, fmt.Sprintf("%s %s %s %d", o.ID, o.UserID, o.Status, o.Amount))
		}
	}
	slices.Sort(wantUsers)
	slices.Sort(wantOrders)
	got := s.rows(t, `SELECT id || ' ' || email FROM `+s.b.table("users")+` ORDER BY 1`)
	if diff := cmp.Diff(wantUsers, got); diff != "" {
		t.Errorf("users table (-mock +table):\n%s", diff)
	}
	got = s.rows(t, `SELECT id || ' ' || "userId" || ' ' || status || ' ' || amount FROM `+s.b.table("orders")+` ORDER BY 1`)
	if diff := cmp.Diff(wantOrders, got); diff != "" {
		t.Errorf("orders table (-mock +table):\n%s", diff)
	}
}

func (s *shop[TTx]) rows(t *testing.T, query string) []string {
	t.Helper()
	rows, err := s.b.db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func errorIs(err, target error) bool { return errors.Is(err, target) }
