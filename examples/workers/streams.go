package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// User, Order and Event are the API's records, decoded from JSON by their
// json tags; the pagekit tags mark the primary keys of their tables.
type User struct {
	ID        string    `json:"id" pagekit:",pk"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Company   string    `json:"company"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type Order struct {
	ID        string    `json:"id" pagekit:",pk"`
	UserID    string    `json:"userId"`
	Status    string    `json:"status"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type Event struct {
	ID        string    `json:"id" pagekit:",pk"`
	Type      string    `json:"type"`
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
}

// markLayout is the API's timestamp format for updated_since and
// created_since. It is fixed-width, so the marks sort as the times they
// stand for.
const markLayout = "2006-01-02T15:04:05Z"

func mark(t time.Time) string { return t.UTC().Format(markLayout) }

// tables are the destinations of the three streams. Each is wrapped in
// riverjob.Completing, so that a partition's job is marked completed in
// the transaction of the partition's last page: the tables must be in the
// database that holds River's jobs.
type tables struct {
	users   paginate.Sink[User]
	orders  paginate.Sink[Order]
	events  paginate.Sink[Event]
	closers []io.Closer
}

func (t *tables) Close() error {
	var errs []error
	for _, c := range t.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// openSQLite opens the three tables in an SQLite database.
func openSQLite(ctx context.Context, db *sql.DB) (*tables, error) {
	t := &tables{}
	var errs [3]error
	t.users, errs[0] = sqliteTable[User](ctx, t, db, "users")
	t.orders, errs[1] = sqliteTable[Order](ctx, t, db, "orders")
	t.events, errs[2] = sqliteTable[Event](ctx, t, db, "events")
	if err := errors.Join(errs[:]...); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func sqliteTable[T any](ctx context.Context, t *tables, db *sql.DB, name string) (paginate.Sink[T], error) {
	s, err := sqlite.New(ctx, db, schema.Must(schema.Derive[T](name)), sqlite.Config[T]{})
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, s)
	return riverjob.Completing(s), nil
}

// openPostgres opens the three tables in a PostgreSQL database, in the
// schema nsp (empty: the search path's first). Each sink holds a
// connection of pool, and a lock on each partition it runs, so that two
// workers never write one partition at once, whatever happens.
func openPostgres(ctx context.Context, pool *pgxpool.Pool, nsp string) (*tables, error) {
	t := &tables{}
	var errs [3]error
	t.users, errs[0] = postgresTable[User](ctx, t, pool, nsp, "users")
	t.orders, errs[1] = postgresTable[Order](ctx, t, pool, nsp, "orders")
	t.events, errs[2] = postgresTable[Event](ctx, t, pool, nsp, "events")
	if err := errors.Join(errs[:]...); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func postgresTable[T any](ctx context.Context, t *tables, pool *pgxpool.Pool, nsp, name string) (paginate.Sink[T], error) {
	s, err := postgres.New(ctx, pool, schema.Must(schema.Derive[T](name)), postgres.Config[T]{Schema: nsp})
	if err != nil {
		return nil, err
	}
	t.closers = append(t.closers, s)
	return riverjob.Completing(s), nil
}

// shop returns the connector: its streams, their destinations, and the
// limits this process's requests keep to. Every paginator sends its
// requests through the Limiter's client, with the worker's name in the
// User-Agent, so that the API can tell the workers apart.
func shop(base string, dst *tables, cfg config) (*connector.Connector, error) {
	lim := connector.NewLimiter(connector.Limits{InFlight: cfg.InFlight})
	client := lim.Client()
	header := http.Header{"User-Agent": {"pagekit-workers/" + cfg.ID}}
	timeouts := strategies.Timeouts{Header: cfg.Timeout, Idle: cfg.Timeout}
	users := connector.NewStream("users", &strategies.PageNumber[User]{
		Request: strategies.Request{
			URL:    base + mockapi.PathPageNumber,
			Client: client,
			Header: header,
			Query:  url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		Limits:    strategies.Limits{Timeouts: timeouts},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
		Window: strategies.Window[User]{SinceParam: strategies.Query("updated_since")},
	}, dst.users, paginate.Options[User]{
		// The incremental mark, sent as updated_since next time; the
		// filter is inclusive, so the records at the mark come again
		// and are upserted, never lost.
		HighWater: func(u User) string { return mark(u.UpdatedAt) },
		// Drift detection: the users are read by page number, so a user
		// updated while we page moves to the end and every user after it
		// one place back, and one slides onto a page already read. A key
		// seen twice in one sync (TrackKeys), or a page that starts
		// before the previous one ended (Order), says so, and the next
		// sync reads again from this one's mark. The list job that
		// inserts the orders' jobs reads the users with the same
		// protection, so no user's orders are skipped either. The
		// database keeps the keys of a sync in progress, so a job
		// resumed after a crash still sees a user it read before come
		// again. (The runner would take the same settings from the
		// table's primary key and the marks; they are spelled out here
		// to be read.)
		Key: func(u User) string { return u.ID },
		Checks: paginate.Checks[User]{
			TrackKeys: true,
			Order:     func(a, b User) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		},
		Restart: cfg.Restart,
		Retry:   cfg.Retry,
	})

	// One partition, and so one job, per user: its own paginator, its
	// own checkpoint ("orders/<user id>"), its own updated_since. A sync
	// lists the users changed since the last sync, and inserts a job for
	// each as the list's pages arrive.
	orders := connector.NewChild("orders", connector.ChildOf[User, Order]{
		Parent: users,
		Key:    func(u User) string { return u.ID },
		// A partition's job carries only the user's id, not the synced
		// user: the paginator reads nothing else.
		Keep: func(u User) User { return User{ID: u.ID} },
		Paginator: func(u User) (paginate.Paginator[Order], error) {
			return &strategies.PageNumber[Order]{
				Request:   strategies.Request{URL: base + mockapi.OrdersPath(url.PathEscape(u.ID)), Client: client, Header: header},
				Limits:    strategies.Limits{Timeouts: timeouts},
				Size:      cfg.OrdersPage,
				SizeParam: strategies.Query("per_page"),
				Response: strategies.Shape[Order]{
					ItemsPath:      "data",
					TotalPagesPath: "total_pages",
				},
				Window: strategies.Window[Order]{SinceParam: strategies.Query("updated_since")},
			}, nil
		},
	}, dst.orders, paginate.Options[Order]{
		HighWater: func(o Order) string { return mark(o.UpdatedAt) },
		Key:       func(o Order) string { return o.ID },
		Restart:   cfg.Restart,
		Retry:     cfg.Retry,
	})

	events := connector.NewStream("events", &strategies.NextToken[Event]{
		Request:    strategies.Request{URL: base + mockapi.PathEvents, Client: client, Header: header},
		Limits:     strategies.Limits{Timeouts: timeouts},
		Size:       50,
		Response:   strategies.Shape[Event]{ItemsPath: "data"},
		Window:     strategies.Window[Event]{SinceParam: strategies.Query("created_since")},
		TokenPath:  "next_token",
		TokenParam: strategies.Query("next_token"),
	}, dst.events, paginate.Options[Event]{
		HighWater: func(e Event) string { return mark(e.CreatedAt) },
		Key:       func(e Event) string { return e.ID },
		Restart:   cfg.Restart,
		Retry:     cfg.Retry,
	})
	return connector.New(connector.Config{Limiter: lim}, users, orders, events)
}
