package connector_test

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/connector/connectortest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/memory"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/strategies"
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

// sinceLayout is the mock API's updated_since format.
const sinceLayout = "2006-01-02T15:04:05Z"

var fastRetry = paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxAttempts: 8}

// table is a destination: a memory sink (rows by primary key,
// checkpoints).
type table[T any] struct {
	*memory.Sink[T]
	// fail, when set, fails the commits of the streams it returns an
	// error for.
	fail func(stream string) error
	// restarts makes it restart the streams whose checkpoints other
	// settings saved, as a platform's store does.
	restarts bool
}

// RestartsStreams makes a table a paginate.RestartingStore.
func (t *table[T]) RestartsStreams() bool { return t.restarts }

func newTable[T any](name, key string) *table[T] {
	return &table[T]{Sink: memory.New(schema.Must(schema.Derive[T](name, key)), memory.Config[T]{})}
}

func (t *table[T]) Commit(ctx context.Context, items []T, cp paginate.Checkpoint) error {
	if t.fail != nil {
		if err := t.fail(cp.Stream); err != nil {
			return err
		}
	}
	return t.Sink.Commit(ctx, items, cp)
}

// env is the mock API on 127.0.0.1 and the destinations of a connector
// of three streams: users (page number, incremental), orders (a child of
// users), events (next token).
type env struct {
	api    *mockapi.Server
	url    string
	users  *table[mockapi.User]
	orders *table[mockapi.Order]
	events *table[mockapi.Event]
	// requests counts the requests the server received, by path.
	mu       sync.Mutex
	requests map[string]int
	inFlight atomic.Int64
	peak     atomic.Int64
}

func newEnv(t testing.TB, cfg mockapi.Config, wrap func(http.Handler) http.Handler) *env {
	e := &env{
		api:      mockapi.New(cfg),
		users:    newTable[mockapi.User]("users", "id"),
		orders:   newTable[mockapi.Order]("orders", "id"),
		events:   newTable[mockapi.Event]("events", "id"),
		requests: make(map[string]int),
	}
	var h http.Handler = e.api
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := e.inFlight.Add(1)
		defer e.inFlight.Add(-1)
		for p := e.peak.Load(); n > p && !e.peak.CompareAndSwap(p, n); p = e.peak.Load() {
		}
		e.mu.Lock()
		e.requests[r.URL.Path]++
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// fresh gives the env empty destinations.
func (e *env) fresh() {
	e.users = newTable[mockapi.User]("users", "id")
	e.orders = newTable[mockapi.Order]("orders", "id")
	e.events = newTable[mockapi.Event]("events", "id")
}

// streamOpts are the knobs of the env's streams.
type streamOpts struct {
	every   bool // orders visits every user
	perPage int  // users' page size
	limiter *connector.Limiter
	crash   *connectortest.Crash // when set, every destination is behind it
	// drift declares the users stream's drift detection (Key,
	// TrackKeys, Order), which the orders' read of the users' list
	// inherits. Without it, the runner turns on what the paginator and
	// the sink make possible, unless plain is set: the users' paginator
	// is then one that does not describe itself, and nothing is on.
	drift, plain bool
	// concurrency is the users' Options.Concurrency.
	concurrency int
}

// streams returns the env's three streams.
func (e *env) streams(o streamOpts) (users, orders, events *connector.Stream) {
	if o.perPage == 0 {
		o.perPage = 10
	}
	var client strategies.Doer
	if o.limiter != nil {
		client = o.limiter.Client()
	}
	var (
		usersDst  connectortest.Destination[mockapi.User]  = e.users
		ordersDst connectortest.Destination[mockapi.Order] = e.orders
		eventsDst connectortest.Destination[mockapi.Event] = e.events
	)
	if o.crash != nil {
		usersDst = connectortest.Wrap(o.crash, usersDst)
		ordersDst = connectortest.Wrap(o.crash, ordersDst)
		eventsDst = connectortest.Wrap(o.crash, eventsDst)
	}
	var usersAPI paginate.Paginator[mockapi.User] = &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: e.url + mockapi.PathPageNumber, Client: client, Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}}},
		Size:      o.perPage,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
		Window: strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
	}
	if o.plain {
		usersAPI = plainPaginator[mockapi.User]{usersAPI}
	}
	userOpts := paginate.Options[mockapi.User]{
		HighWater:   func(u mockapi.User) string { return u.UpdatedAt.UTC().Format(sinceLayout) },
		Concurrency: o.concurrency,
		Retry:       fastRetry,
	}
	if o.drift {
		userOpts.Key = func(u mockapi.User) string { return u.ID }
		userOpts.Checks.TrackKeys = true
		userOpts.Checks.Order = func(a, b mockapi.User) int {
			return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
		}
	}
	users = connector.NewStream("users", usersAPI, usersDst, userOpts)
	orders = connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users,
		Key:    func(u mockapi.User) string { return u.ID },
		Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
			return &strategies.PageNumber[mockapi.Order]{
				Request:   strategies.Request{URL: e.url + mockapi.OrdersPath(url.PathEscape(u.ID)), Client: client},
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response: strategies.Shape[mockapi.Order]{
					ItemsPath:      "data",
					TotalPagesPath: "total_pages",
				},
				Window: strategies.Window[mockapi.Order]{SinceParam: strategies.Query("updated_since")},
			}, nil
		},
		Every: o.every,
	}, ordersDst, paginate.Options[mockapi.Order]{
		HighWater: func(o mockapi.Order) string { return o.UpdatedAt.UTC().Format(sinceLayout) },
		Retry:     fastRetry,
	})
	events = connector.NewStream("events", &strategies.NextToken[mockapi.Event]{
		Request:    strategies.Request{URL: e.url + mockapi.PathEvents, Client: client},
		Size:       25,
		Response:   strategies.Shape[mockapi.Event]{ItemsPath: "data"},
		TokenPath:  "next_token",
		TokenParam: strategies.Query("next_token"),
	}, eventsDst, paginate.Options[mockapi.Event]{Retry: fastRetry})
	return users, orders, events
}

// connector returns a connector of the env's three streams.
func (e *env) connector(t testing.TB, cfg connector.Config, o streamOpts) *connector.Connector {
	t.Helper()
	if o.limiter == nil {
		o.limiter = cfg.Limiter
	}
	u, or, ev := e.streams(o)
	c, err := connector.New(cfg, u, or, ev)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// allOrders returns every order of the mock's users, by id.
func (e *env) allOrders() []mockapi.Order {
	var out []mockapi.Order
	for _, u := range e.api.Records() {
		os, _ := e.api.Orders(u.ID)
		out = append(out, os...)
	}
	return byID(out, func(o mockapi.Order) string { return o.ID })
}

func byID[T any](rows []T, id func(T) string) []T {
	rows = slices.Clone(rows)
	slices.SortFunc(rows, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return rows
}

// checkOrders compares the orders table with the mock's orders.
func (e *env) checkOrders(t testing.TB) {
	t.Helper()
	if diff := gocmp.Diff(e.allOrders(), e.orders.Rows(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("orders table (-mock +table):\n%s", diff)
	}
}

// checkTables compares every table with the mock's data.
func (e *env) checkTables(t testing.TB) {
	t.Helper()
	opt := cmpopts.EquateEmpty()
	if diff := gocmp.Diff(byID(e.api.Records(), func(u mockapi.User) string { return u.ID }), e.users.Rows(), opt); diff != "" {
		t.Errorf("users table (-mock +table):\n%s", diff)
	}
	if diff := gocmp.Diff(e.allOrders(), e.orders.Rows(), opt); diff != "" {
		t.Errorf("orders table (-mock +table):\n%s", diff)
	}
	if diff := gocmp.Diff(byID(e.api.Events(), func(v mockapi.Event) string { return v.ID }), e.events.Rows(), opt); diff != "" {
		t.Errorf("events table (-mock +table):\n%s", diff)
	}
}

// newTextLogger returns a logger writing text lines to b under mu.
func newTextLogger(mu *sync.Mutex, b *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return b.Write(p)
	}), nil))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// plainPaginator is a paginator that fetches and does nothing else: it
// neither plans nor describes how it reads, as a hand-written one may not.
type plainPaginator[T any] struct{ p paginate.Paginator[T] }

func (p plainPaginator[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	return p.p.Fetch(ctx, pos)
}
