package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pagekit/pagekit/mockapi"
)

// pgSchema returns the DSN of PAGEKIT_POSTGRES_DSN and a new schema in its
// database, dropped when the test ends; the test skips without one.
func pgSchema(t *testing.T) (string, string, *pgxpool.Pool) {
	t.Helper()
	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PAGEKIT_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("pagekit_cli_%d", time.Now().UnixNano())
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		pool.Close()
	})
	return dsn, schema, pool
}

// count returns the rows of table in schema.
func count(t *testing.T, pool *pgxpool.Pool, schema, table string) int {
	var n int
	err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{schema, table}.Sanitize()).Scan(&n)
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		t.Fatal(err)
	}
	return n
}

// TestWork runs the spec of users and their orders as River jobs on
// PostgreSQL: a worker that enqueues a sync and works it, stopped once
// the tables hold every record.
func TestWork(t *testing.T) {
	dsn, schema, pool := pgSchema(t)
	a := serve(t, mockapi.Config{Records: 80, Seed: 4, OAuth: mockapi.OAuth{ClientID: "pagekit-test", ClientSecret: "cs-w0rk", Require: true}})
	t.Setenv("API", a.URL)
	t.Setenv("CLIENT_SECRET", "cs-w0rk")
	orders := len(mockOrders(a))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut strings.Builder
		code := Main(ctx, []string{"work", "testdata/shop.yaml", "-postgres", dsn, "-schema", schema, "-enqueue", "-jobs", "4"}, &out, &errOut)
		done <- result{code, out.String(), errOut.String()}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for count(t, pool, schema, "users") < a.Len() || count(t, pool, schema, "orders") < orders {
		select {
		case r := <-done:
			t.Fatalf("the worker ended: status %d\n%s%s", r.code, r.stdout, r.stderr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90s: %d users of %d, %d orders of %d", count(t, pool, schema, "users"), a.Len(), count(t, pool, schema, "orders"), orders)
		}
	}
	cancel()
	r := <-done
	if r.code != 0 || !strings.Contains(r.stderr, "drained and stopped") {
		t.Errorf("the worker stopped with status %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := count(t, pool, schema, "orders"); got != orders {
		t.Errorf("%d orders, want %d", got, orders)
	}
}

// TestSyncPostgres syncs the flagship's spec into PostgreSQL, the
// schema given in the DSN's search_path: the mock's records, twice.
func TestSyncPostgres(t *testing.T) {
	dsn, schema, pool := pgSchema(t)
	a := serve(t, mockapi.Config{Records: 150, Seed: 8})
	t.Setenv("API_URL", a.URL+mockapi.PathPageNumber)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	for round := range 2 {
		if round > 0 {
			a.Update(20)
		}
		code, stdout, stderr := run(t, "sync", flagshipSpec, "-dest", dsn+sep+"search_path="+schema)
		if code != 0 {
			t.Fatalf("status %d\n%s%s", code, stdout, stderr)
		}
		rows, err := pool.Query(context.Background(), `SELECT id, "updatedAt" FROM `+pgx.Identifier{schema, "user"}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		got := make(map[string]time.Time)
		for rows.Next() {
			var id string
			var at time.Time
			if err := rows.Scan(&id, &at); err != nil {
				t.Fatal(err)
			}
			got[id] = at.UTC()
		}
		rows.Close()
		want := make(map[string]time.Time)
		for _, u := range a.Records() {
			want[u.ID] = u.UpdatedAt.UTC()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round %d (-mock +table):\n%s", round, diff)
		}
	}
}
