package connector_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/strategies"
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

// A connector run ends with no stream lock held: another worker (here
// another sink, on another connection) can sync or list every stream,
// the child stream's parent list included.
func TestRunReleasesPostgresLocks(t *testing.T) {
	pool, nsp := pgPool(t)
	ctx := context.Background()
	e := newEnv(t, mockapi.Config{Records: 12, Seed: 3, OrdersPerUser: 2}, nil)
	users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: e.url + mockapi.PathPageNumber},
		Size:      5,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}, pgSink[mockapi.User](t, pool, nsp, "users"), paginate.Options[mockapi.User]{Retry: fastRetry})
	orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users,
		Key:    func(u mockapi.User) string { return u.ID },
		Every:  true,
		Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
			return &strategies.PageNumber[mockapi.Order]{
				Request:   strategies.Request{URL: e.url + mockapi.OrdersPath(url.PathEscape(u.ID))},
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response: strategies.Shape[mockapi.Order]{
					ItemsPath:      "data",
					TotalPagesPath: "total_pages",
				},
			}, nil
		},
	}, pgSink[mockapi.Order](t, pool, nsp, "orders"), paginate.Options[mockapi.Order]{Retry: fastRetry})
	c, err := connector.New(connector.Config{}, users, orders)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(ctx)
	if err != nil || !res.Complete() {
		t.Fatalf("run: %v, complete %v", err, res.Complete())
	}

	other := pgSink[mockapi.Order](t, pool, nsp, "orders")
	first := e.api.Records()[0].ID
	for _, stream := range []string{"orders", "orders/" + first} {
		if _, _, err := other.Load(ctx, stream); err != nil {
			t.Errorf("another worker loading %q after the run: %v", stream, err)
		}
		if err := other.Unlock(ctx, stream); err != nil {
			t.Errorf("unlock %q: %v", stream, err)
		}
	}
	otherUsers := pgSink[mockapi.User](t, pool, nsp, "users")
	if _, _, err := otherUsers.Load(ctx, "users"); err != nil {
		t.Errorf("another worker loading users after the run: %v", err)
	}
}
