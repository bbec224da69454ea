package connector_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
)

// pgPool connects to PAGEKIT_POSTGRES_DSN in a schema of its own, dropped
// at the end of the test.
func pgPool(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("PAGEKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal("PAGEKIT_REQUIRE_POSTGRES=1 but PAGEKIT_POSTGRES_DSN is not set")
		}
		t.Skip("PAGEKIT_POSTGRES_DSN is not set")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	nsp := fmt.Sprintf("pk_connector_%08x", rand.Uint32())
	if _, err := pool.Exec(ctx, `CREATE SCHEMA "`+nsp+`"`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(context.Background(), `DROP SCHEMA "`+nsp+`" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", nsp, err)
		}
		pool.Close()
	})
	return pool, nsp
}

func pgSink[T any](t *testing.T, pool *pgxpool.Pool, nsp, table string) *postgres.Sink[T] {
	t.Helper()
	s, err := postgres.New(context.Background(), pool, schema.Must(schema.Derive[T](table, "id")), postgres.Config[T]{Schema: nsp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
