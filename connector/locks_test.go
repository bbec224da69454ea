package connector_test

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// A connector run ends with no stream lock held, whatever the sink: another
// worker (here another sink, on another connection) can sync or list every
// stream, the child stream's parent list included. The sinks that lock
// streams are connector.Unlockers.
func TestRunReleasesLocks(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		pool, nsp := pgPool(t)
		runReleasesLocks(t, func(t *testing.T) (paginate.Sink[mockapi.User], paginate.Sink[mockapi.Order]) {
			return pgSink[mockapi.User](t, pool, nsp, "users"), pgSink[mockapi.Order](t, pool, nsp, "orders")
		})
	})
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sync.db")
		runReleasesLocks(t, func(t *testing.T) (paginate.Sink[mockapi.User], paginate.Sink[mockapi.Order]) {
			return liteSink[mockapi.User](t, path, "users"), liteSink[mockapi.Order](t, path, "orders")
		})
	})
}

// liteSink opens the table of a SQLite database file, on a connection of
// its own.
func liteSink[T any](t *testing.T, path, table string) *sqlite.Sink[T] {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlite.New(context.Background(), db, schema.Must(schema.Derive[T](table, "id")), sqlite.Config[T]{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runReleasesLocks syncs users and each user's orders into the sinks open
// gives, then checks with sinks from another call of open that no stream
// is locked.
func runReleasesLocks(t *testing.T, open func(*testing.T) (paginate.Sink[mockapi.User], paginate.Sink[mockapi.Order])) {
	ctx := context.Background()
	e := newEnv(t, mockapi.Config{Records: 12, Seed: 3, OrdersPerUser: 2}, nil)
	userSink, orderSink := open(t)
	for _, s := range []any{userSink, orderSink} {
		if _, ok := s.(connector.Unlocker); !ok {
			t.Errorf("%T is not a connector.Unlocker: a connector run cannot release its locks", s)
		}
	}
	users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: e.url + mockapi.PathPageNumber},
		Size:      5,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}, userSink, paginate.Options[mockapi.User]{Retry: fastRetry})
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
	}, orderSink, paginate.Options[mockapi.Order]{Retry: fastRetry})
	c, err := connector.New(connector.Config{}, users, orders)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(ctx)
	if err != nil || !res.Complete() {
		t.Fatalf("run: %v, complete %v", err, res.Complete())
	}

	otherUsers, otherOrders := open(t)
	first := e.api.Records()[0].ID
	for _, c := range []struct {
		sink   any
		stream string
	}{{otherOrders, "orders"}, {otherOrders, "orders/" + first}, {otherUsers, "users"}} {
		if _, _, err := c.sink.(paginate.Store).Load(ctx, c.stream); err != nil {
			t.Errorf("another worker loading %q after the run: %v", c.stream, err)
		}
		if u, ok := c.sink.(connector.Unlocker); ok {
			if err := u.Unlock(ctx, c.stream); err != nil {
				t.Errorf("unlock %q: %v", c.stream, err)
			}
		}
	}
}
