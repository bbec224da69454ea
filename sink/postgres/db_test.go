package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
)

// testDB connects to the database of PAGEKIT_POSTGRES_DSN and returns a
// pool and a schema of its own, dropped when the test ends, so that tests
// and packages running in parallel never share a table.
func testDB(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("PAGEKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PAGEKIT_REQUIRE_POSTGRES=1 but PAGEKIT_POSTGRES_DSN is not set")
		}
		t.Skip("PostgreSQL tests need a server: set PAGEKIT_POSTGRES_DSN, e.g. " +
			"postgres://postgres@127.0.0.1:5432/pagekit_test?sslmode=disable (.ci/run starts one and sets it)")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("PAGEKIT_POSTGRES_DSN: %v", err)
	}
	cfg.MaxConns = 8
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	ctx := context.Background()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "_"))
	name = fmt.Sprintf("pk_%.40s_%08x", name, rand.Uint32())
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), `DROP SCHEMA IF EXISTS "`+name+`" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
		pool.Close()
	})
	return pool, name
}

func newSink[T any](t testing.TB, pool *pgxpool.Pool, m *schema.Mapping[T], cfg postgres.Config[T]) *postgres.Sink[T] {
	t.Helper()
	s, err := postgres.New(context.Background(), pool, m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dump returns the rows of query, with each value as pgx decodes it.
func dump(t testing.TB, pool *pgxpool.Pool, query string) [][]any {
	t.Helper()
	rows, err := pool.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
