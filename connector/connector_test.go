package connector_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
)

func TestRunSyncsEveryStreamThenIncrementally(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 60, Seed: 3, Events: 130}, nil)
	lim := connector.NewLimiter(connector.Limits{InFlight: 6})
	c := e.connector(t, connector.Config{Limiter: lim}, streamOpts{})
	res, err := c.Run(t.Context())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !res.Complete() {
		t.Fatalf("result not complete: %+v", res)
	}
	e.checkTables(t)
	orders, _ := res.Stream("orders")
	if orders.Partitions.Parents != 60 || orders.Partitions.Run != 60 || orders.Partitions.Complete != 60 {
		t.Errorf("orders partitions %+v: want 60 parents, 60 run, 60 complete", orders.Partitions)
	}
	if orders.Items != int64(len(e.allOrders())) || orders.Parent != "users" {
		t.Errorf("orders: %d items, parent %q; want %d, users", orders.Items, orders.Parent, len(e.allOrders()))
	}
	if got := []string{res.Streams[0].Stream, res.Streams[1].Stream, res.Streams[2].Stream}; !gocmp.Equal(got, []string{"users", "orders", "events"}) {
		t.Errorf("streams in the result: %v", got)
	}

	// Two users change: the next run reads them (and the users at the
	// inclusive mark) and visits only their partitions.
	changed := e.api.Update(2)
	res, err = c.Run(t.Context())
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	orders, _ = res.Stream("orders")
	users, _ := res.Stream("users")
	// The mark is inclusive: the users at the old mark come again.
	if p := orders.Partitions; users.Items < 2 || users.Items > 3 || p.Parents != users.Items || p.Run != int(users.Items) {
		t.Errorf("incremental: %d users, orders partitions %+v: want the 2 changed users (%s, %s) and those at the old mark",
			users.Items, p, changed[0].ID, changed[1].ID)
	}
	e.checkTables(t)

	// Every: each run visits every user.
	c = e.connector(t, connector.Config{Limiter: lim}, streamOpts{every: true})
	res, err = c.Run(t.Context(), "orders")
	if err != nil {
		t.Fatalf("Run every: %v", err)
	}
	if len(res.Streams) != 1 {
		t.Fatalf("a run of one stream gave %d results", len(res.Streams))
	}
	if p := res.Streams[0].Partitions; p.Parents != 60 || p.Complete != 60 {
		t.Errorf("Every: partitions %+v, want 60 parents, 60 complete", p)
	}
	e.checkTables(t)
}

func TestSelectionAndDiscovery(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 30, Seed: 4}, nil)
	c := e.connector(t, connector.Config{}, streamOpts{})
	if _, err := c.Run(t.Context(), "users", "nope"); !errors.Is(err, connector.ErrUnknownStream) {
		t.Fatalf("Run of an unknown stream: %v, want ErrUnknownStream", err)
	}
	if n := e.requests[mockapi.PathPageNumber]; n != 0 {
		t.Fatalf("a failed selection sent %d requests", n)
	}
	res, err := c.Run(t.Context(), "events")
	if err != nil || len(res.Streams) != 1 || res.Streams[0].Stream != "events" {
		t.Fatalf("Run(events): %+v, %v", res, err)
	}
	if len(e.users.Rows()) != 0 || len(e.orders.Rows()) != 0 || len(e.events.Rows()) == 0 {
		t.Errorf("a run of events wrote users %d, orders %d, events %d", len(e.users.Rows()), len(e.orders.Rows()), len(e.events.Rows()))
	}
	// A child runs without its parent stream: it reads the parent's list itself.
	if _, err := c.Run(t.Context(), "orders"); err != nil {
		t.Fatal(err)
	}
	if len(e.users.Rows()) != 0 || len(e.orders.Rows()) != len(e.allOrders()) {
		t.Errorf("a run of orders wrote users %d, orders %d (want 0, %d)", len(e.users.Rows()), len(e.orders.Rows()), len(e.allOrders()))
	}

	var got []string
	for _, s := range c.Discover() {
		line := s.Name + "<" + s.Parent + ">"
		if s.Table != nil {
			line += s.Table.Name + strings.Join(s.Table.PrimaryKey, ",")
			for _, col := range s.Table.Columns {
				line += " " + col.Name + ":" + col.Type.String()
			}
		}
		got = append(got, line)
	}
	want := []string{
		"users<>usersid id:STRING name:STRING email:STRING address:STRING company:STRING job:STRING createdAt:UTC_DATETIME updatedAt:UTC_DATETIME",
		"orders<users>ordersid id:STRING userId:STRING status:STRING amount:LONG currency:STRING createdAt:UTC_DATETIME updatedAt:UTC_DATETIME",
		"events<>eventsid id:STRING type:STRING userId:STRING createdAt:UTC_DATETIME",
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}
	// The destinations are the ones declared, for their optional
	// interfaces.
	for i, dst := range []any{e.users, e.orders, e.events} {
		if d := c.Discover()[i].Destination; d != dst {
			t.Errorf("Discover()[%d].Destination = %p, want the stream's sink %p", i, d, dst)
		}
	}
}

func TestNewRejectsBadDeclarations(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 10}, nil)
	users, orders, events := e.streams(streamOpts{})
	other, _, _ := newEnv(t, mockapi.Config{Records: 10}, nil).streams(streamOpts{})
	wrongType := connector.NewChild("x", connector.ChildOf[mockapi.Order, mockapi.Order]{
		Parent: users, Key: func(o mockapi.Order) string { return o.ID },
		Paginator: func(mockapi.Order) (paginate.Paginator[mockapi.Order], error) { return nil, nil },
	}, e.orders, paginate.Options[mockapi.Order]{})
	noStore := connector.NewChild("y", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users, Key: func(u mockapi.User) string { return u.ID },
		Paginator: func(mockapi.User) (paginate.Paginator[mockapi.Order], error) { return nil, nil },
	}, paginate.SinkFunc[mockapi.Order](func(context.Context, []mockapi.Order) error { return nil }), paginate.Options[mockapi.Order]{})
	for _, tc := range []struct {
		name    string
		streams []*connector.Stream
		want    string
	}{
		{"duplicate", []*connector.Stream{users, orders, users}, `two streams are named "users"`},
		{"slash", []*connector.Stream{connector.NewStream("a/b", mockPaginator(), e.events, paginate.Options[mockapi.Event]{})}, `holds a "/"`},
		{"empty", []*connector.Stream{connector.NewStream("", mockPaginator(), e.events, paginate.Options[mockapi.Event]{})}, "empty name"},
		{"parent missing", []*connector.Stream{orders, events}, `the parent "users" of stream "orders" is not one`},
		{"parent of another connector", []*connector.Stream{users, connector.NewChild("o", connector.ChildOf[mockapi.User, mockapi.Order]{
			Parent: other, Key: func(u mockapi.User) string { return u.ID },
			Paginator: func(mockapi.User) (paginate.Paginator[mockapi.Order], error) { return nil, nil },
		}, e.orders, paginate.Options[mockapi.Order]{})}, "is not one of the connector's streams"},
		{"wrong parent type", []*connector.Stream{users, wrongType}, "is not a top-level stream of mockapi.Order records"},
		{"no store", []*connector.Stream{users, noStore}, "not a paginate.Store"},
		{"nil paginator", []*connector.Stream{connector.NewStream[mockapi.Event]("z", nil, e.events, paginate.Options[mockapi.Event]{})}, "needs a paginator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := connector.New(connector.Config{}, tc.streams...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func mockPaginator() paginate.Paginator[mockapi.Event] {
	return paginate.PaginatorFunc[mockapi.Event](func(context.Context, paginate.Position) (paginate.Page[mockapi.Event], error) {
		return paginate.Page[mockapi.Event]{}, nil
	})
}

// A stream whose API refuses every request fails alone: the others
// complete, and the error names it.
func TestFailingStreamLeavesOthersRunning(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 40, Seed: 5}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockapi.PathEvents {
				http.Error(w, `{"error":"forbidden"}`, http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c := e.connector(t, connector.Config{}, streamOpts{})
	res, err := c.Run(t.Context())
	var se *connector.StreamError
	if !errors.As(err, &se) || se.Stream != "events" {
		t.Fatalf("Run: %v, want a StreamError of events", err)
	}
	var statuses []string
	for _, r := range res.Streams {
		statuses = append(statuses, r.Stream+" "+r.Status())
	}
	if diff := gocmp.Diff([]string{"users complete", "orders complete", "events failed"}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if len(e.users.Rows()) != 40 || len(e.orders.Rows()) != len(e.allOrders()) {
		t.Errorf("users %d, orders %d rows: the other streams did not complete", len(e.users.Rows()), len(e.orders.Rows()))
	}

	// FailFast: the same failure stops the others.
	e2 := newEnv(t, mockapi.Config{Records: 400, Seed: 5, Latency: 2 * time.Millisecond}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockapi.PathEvents {
				http.Error(w, `{"error":"forbidden"}`, http.StatusForbidden)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c = e2.connector(t, connector.Config{FailFast: true}, streamOpts{})
	res, err = c.Run(t.Context())
	if !errors.Is(err, connector.ErrStopped) || errors.Is(err, context.Canceled) {
		t.Fatalf("FailFast Run: %v, want ErrStopped for the others and no context.Canceled", err)
	}
	if users, _ := res.Stream("users"); users.Complete() {
		t.Errorf("FailFast: users completed (%+v)", users)
	}
}

// A partition that fails permanently fails alone; it is kept with its
// parent and retried, alone, by the next run.
func TestFailedPartitionRetriedAlone(t *testing.T) {
	var bad atomic.Value
	bad.Store("")
	var broken atomic.Bool
	broken.Store(true)
	e := newEnv(t, mockapi.Config{Records: 50, Seed: 6, OrdersPerUser: 3}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if broken.Load() && r.URL.Path == mockapi.OrdersPath(bad.Load().(string)) {
				http.Error(w, `{"error":"gone"}`, http.StatusNotFound)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	badID := e.api.Records()[17].ID
	bad.Store(badID)
	c := e.connector(t, connector.Config{}, streamOpts{})
	res, err := c.Run(t.Context(), "orders")
	var pe *connector.PartitionError
	if !errors.As(err, &pe) || pe.Key != badID || pe.Stream != "orders" {
		t.Fatalf("Run: %v, want a PartitionError of partition %s", err, badID)
	}
	if !strings.Contains(err.Error(), "404") {
		t.Errorf("the error does not say 404: %v", err)
	}
	p := res.Streams[0].Partitions
	if p.Run != 50 || p.Complete != 49 || p.Failed != 1 || len(res.Streams[0].Failures) != 1 {
		t.Errorf("partitions %+v, failures %d: want 50 run, 49 complete, 1 failed", p, len(res.Streams[0].Failures))
	}
	if got := len(e.orders.Rows()); got != 49*3 {
		t.Errorf("%d orders, want %d", got, 49*3)
	}

	broken.Store(false)
	res, err = c.Run(t.Context(), "orders")
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	// The parents' list is incremental: it reads only the users at the
	// mark, so the run is the retry and those.
	p = res.Streams[0].Partitions
	if p.Retried != 1 || p.Failed != 0 || p.Run != 1+int(p.Parents) || p.Parents > 2 {
		t.Errorf("second run partitions %+v: want the one retry and the users at the mark", p)
	}
	if diff := gocmp.Diff(e.allOrders(), e.orders.Rows()); diff != "" {
		t.Errorf("orders after the retry (-mock +table):\n%s", diff)
	}
	// Nothing is left to retry.
	res, _ = c.Run(t.Context(), "orders")
	if p := res.Streams[0].Partitions; p.Retried != 0 {
		t.Errorf("third run retried %d partitions", p.Retried)
	}
}

func TestPartitionsAndRunPartition(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 45, Seed: 7}, nil)
	c := e.connector(t, connector.Config{}, streamOpts{})

	// The list stops at the third batch; called again it goes on from it.
	var got []connector.Partition
	calls := 0
	_, err := c.Partitions(t.Context(), "orders", func(_ context.Context, ps []connector.Partition) error {
		calls++
		if calls == 3 {
			return errors.New("queue full")
		}
		got = append(got, ps...)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "queue full") {
		t.Fatalf("Partitions: %v, want the add error", err)
	}
	res, err := c.Partitions(t.Context(), "orders", func(_ context.Context, ps []connector.Partition) error {
		got = append(got, ps...)
		return nil
	})
	if err != nil || !res.Stop.Complete() {
		t.Fatalf("Partitions again: %v (%v)", err, res.Stop)
	}
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Key)
		if p.Stream != "orders" || p.Checkpoint() != "orders/"+p.Key {
			t.Fatalf("partition %+v", p)
		}
	}
	var want []string
	for _, u := range e.api.Records() {
		want = append(want, u.ID)
	}
	if diff := gocmp.Diff(want, keys); diff != "" {
		t.Fatalf("partitions listed (-users +listed):\n%s", diff)
	}
	for _, p := range got {
		if _, err := c.RunPartition(t.Context(), p); err != nil {
			t.Fatalf("RunPartition(%s): %v", p.Key, err)
		}
	}
	if diff := gocmp.Diff(e.allOrders(), e.orders.Rows()); diff != "" {
		t.Errorf("orders (-mock +table):\n%s", diff)
	}
	var top []connector.Partition
	if _, err := c.Partitions(t.Context(), "events", func(_ context.Context, ps []connector.Partition) error {
		top = append(top, ps...)
		return nil
	}); err != nil || len(top) != 1 || top[0].Stream != "events" || top[0].Key != "" || top[0].Parent != nil {
		t.Fatalf("Partitions of a top-level stream: %+v, %v", top, err)
	}
	if _, err := c.RunPartition(t.Context(), top[0]); err != nil {
		t.Fatal(err)
	}
	if len(e.events.Rows()) != len(e.api.Events()) {
		t.Errorf("events: %d rows", len(e.events.Rows()))
	}

	for _, p := range []connector.Partition{
		{Stream: "nope"},
		{Stream: "orders", Key: got[0].Key},
		{Stream: "orders", Key: got[1].Key, Parent: got[0].Parent},
		{Stream: "orders", Key: "x", Parent: []byte("{bad")},
		{Stream: "users", Key: "x"},
	} {
		if _, err := c.RunPartition(t.Context(), p); err == nil {
			t.Errorf("RunPartition(%+v) did not fail", p)
		}
	}
}

// A child with a Tabler destination that is not a schema mapping's still
// reports no table rather than a wrong one.
func TestDiscoverWithoutTable(t *testing.T) {
	s := connector.NewStream("plain", mockPaginator(),
		paginate.SinkFunc[mockapi.Event](func(context.Context, []mockapi.Event) error { return nil }), paginate.Options[mockapi.Event]{})
	c, err := connector.New(connector.Config{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Discover(); len(d) != 1 || d[0].Table != nil || d[0].Name != "plain" {
		t.Errorf("Discover: %+v", d)
	}
	var _ connector.Tabler = newTable[mockapi.User]("u", "id")
}

// identified is a paginator that describes itself for checkpoints.
type identified struct {
	paginate.Paginator[mockapi.Event]
}

func (identified) Identity() paginate.Identity { return paginate.Identity{"paginator": "test-kind"} }

// The connector's budget wrapper keeps the paginator's identity in the
// checkpoints.
func TestCheckpointIdentityThroughTheBudget(t *testing.T) {
	dst := newTable[mockapi.Event]("events", "id")
	s := connector.NewStream("ev", identified{mockPaginator()}, dst, paginate.Options[mockapi.Event]{})
	c, err := connector.New(connector.Config{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	cp, _, _ := dst.Load(t.Context(), "ev")
	if !strings.Contains(cp.Identity, "paginator=test-kind") || !strings.Contains(cp.Identity, "table=events") {
		t.Errorf("checkpoint identity %q, want the paginator's and the table's", cp.Identity)
	}
}

// A panic in a stream's code reaches the caller of Run, once every other
// goroutine of the run has stopped.
func TestPanicReachesTheCaller(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 30, Seed: 13}, nil)
	users, _, _ := e.streams(streamOpts{})
	n := 0
	orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users,
		Key:    func(u mockapi.User) string { return u.ID },
		Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
			if n++; n == 7 {
				panic("boom in partition 7")
			}
			return mockPaginatorOf[mockapi.Order](), nil
		},
	}, e.orders, paginate.Options[mockapi.Order]{})
	c, err := connector.New(connector.Config{Runs: 1}, users, orders)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "boom in partition 7") {
			t.Errorf("recovered %v, want the partition's panic", v)
		}
	}()
	c.Run(t.Context())
	t.Error("Run returned")
}

func mockPaginatorOf[T any]() paginate.Paginator[T] {
	return paginate.PaginatorFunc[T](func(context.Context, paginate.Position) (paginate.Page[T], error) {
		return paginate.Page[T]{}, nil
	})
}
