package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/sqlite"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	if code == 0 {
		if err := goleak.Find(exampletest.LeakOptions...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func testConfig(t *testing.T, base string) config {
	return config{
		Flags:    console.Flags{URL: base, DB: filepath.Join(t.TempDir(), "connector.db"), PerPage: 50, Concurrency: 4},
		InFlight: 8,
		Retry:    paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxAttempts: 10},
	}
}

func syncOK(t *testing.T, cfg config) (connector.Result, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	res, err := run(context.Background(), cfg, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return res, stdout.String()
}

// rows is what the three tables hold, read back as the mock's records.
type rows struct {
	users  []mockapi.User // id, name, email, company, createdAt, updatedAt
	orders []mockapi.Order
	events []mockapi.Event
}

// want is what the tables must hold: the mock's data, by id.
func want(api *mockapi.Server) rows {
	var w rows
	for _, u := range api.Records() {
		w.users = append(w.users, mockapi.User{ID: u.ID, Name: u.Name, Email: u.Email, Company: u.Company, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt})
		os, _ := api.Orders(u.ID)
		w.orders = append(w.orders, os...)
	}
	w.events = api.Events()
	slices.SortFunc(w.users, func(a, b mockapi.User) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(w.orders, func(a, b mockapi.Order) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(w.events, func(a, b mockapi.Event) int { return strings.Compare(a.ID, b.ID) })
	return w
}

func readRows(t *testing.T, path string) rows {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var r rows
	query(t, db, `SELECT id, name, email, company, createdAt, updatedAt FROM users ORDER BY id`, func(s scanner) error {
		var u mockapi.User
		var c, up string
		err := s.Scan(&u.ID, &u.Name, &u.Email, &u.Company, &c, &up)
		u.CreatedAt, u.UpdatedAt = parse(c), parse(up)
		r.users = append(r.users, u)
		return err
	})
	query(t, db, `SELECT id, userId, status, amount, currency, createdAt, updatedAt FROM orders ORDER BY id`, func(s scanner) error {
		var o mockapi.Order
		var c, up string
		err := s.Scan(&o.ID, &o.UserID, &o.Status, &o.Amount, &o.Currency, &c, &up)
		o.CreatedAt, o.UpdatedAt = parse(c), parse(up)
		r.orders = append(r.orders, o)
		return err
	})
	query(t, db, `SELECT id, type, userId, createdAt FROM events ORDER BY id`, func(s scanner) error {
		var e mockapi.Event
		var c string
		err := s.Scan(&e.ID, &e.Type, &e.UserID, &c)
		e.CreatedAt = parse(c)
		r.events = append(r.events, e)
		return err
	})
	return r
}

type scanner interface{ Scan(...any) error }

func query(t *testing.T, db *sql.DB, q string, row func(scanner) error) {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		if err := row(rs); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
}

func parse(s string) time.Time {
	v, _ := time.Parse(sqlite.DatetimeLayout, s)
	return v
}

// checkTables compares every table with the mock's data.
func checkTables(t *testing.T, api *mockapi.Server, db string) {
	t.Helper()
	w, got := want(api), readRows(t, db)
	opt := cmp.Options{cmp.AllowUnexported(rows{}), cmpopts.EquateEmpty()}
	if diff := cmp.Diff(w, got, opt); diff != "" {
		if len(diff) > 4000 {
			diff = diff[:4000] + "\n..."
		}
		t.Fatalf("tables differ from the mock's data: %s (-mock +tables):\n%s", missing(w, got), diff)
	}
}

// missing counts the rows of w that got lacks, or holds at another
// version, table by table.
func missing(w, got rows) string {
	users := make(map[mockapi.User]bool, len(got.users))
	for _, u := range got.users {
		users[u] = true
	}
	orders := make(map[mockapi.Order]bool, len(got.orders))
	for _, o := range got.orders {
		orders[o] = true
	}
	var nu, no int
	for _, u := range w.users {
		if !users[u] {
			nu++
		}
	}
	for _, o := range w.orders {
		if !orders[o] {
			no++
		}
	}
	return fmt.Sprintf("%d of %d users and %d of %d orders missing or stale", nu, len(w.users), no, len(w.orders))
}

func TestSyncThenIncremental(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 120, Seed: 3})
	cfg := testConfig(t, api.URL)
	res, out := syncOK(t, cfg)
	checkTables(t, api.Server, cfg.DB)
	for _, w := range []string{"Sync of 3 streams complete", "| users  |        | complete |", "| orders | users  | complete | 120 ", "| events |        | complete |"} {
		if !strings.Contains(out, w) {
			t.Errorf("summary lacks %q:\n%s", w, out)
		}
	}
	if !res.Complete() {
		t.Fatalf("not complete: %+v", res)
	}

	api.Update(5)
	api.Insert(3)
	res, _ = syncOK(t, cfg)
	checkTables(t, api.Server, cfg.DB)
	orders, _ := res.Stream("orders")
	if p := orders.Partitions; p.Run < 8 || p.Run > 10 {
		t.Errorf("incremental sync visited %d users' orders, want the 8 changed (and those at the mark)", p.Run)
	}
	// -every-user visits them all.
	cfg.EveryUser = true
	res, _ = syncOK(t, cfg)
	if orders, _ := res.Stream("orders"); orders.Partitions.Run != 123 {
		t.Errorf("-every-user visited %d users, want 123", orders.Partitions.Run)
	}
}

func TestSelectionResetDiscover(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 80, Seed: 4})
	cfg := testConfig(t, api.URL)
	cfg.Streams = []string{"events"}
	res, _ := syncOK(t, cfg)
	if len(res.Streams) != 1 || res.Streams[0].Items != 80 {
		t.Fatalf("-streams events: %+v", res.Streams)
	}
	if r := readRows(t, cfg.DB); len(r.users) != 0 || len(r.orders) != 0 {
		t.Fatalf("-streams events wrote %d users and %d orders", len(r.users), len(r.orders))
	}
	cfg.Streams = nil
	syncOK(t, cfg)
	checkTables(t, api.Server, cfg.DB)

	// -reset of two streams: they start over; the third goes on from its mark.
	cfg.Reset, cfg.Streams = true, []string{"orders", "events"}
	res, _ = syncOK(t, cfg)
	if o, _ := res.Stream("orders"); o.Partitions.Run != 80 || o.Resumed {
		t.Errorf("reset orders: %d partitions, resumed %v; want all 80 from the start", o.Partitions.Run, o.Resumed)
	}
	if e, _ := res.Stream("events"); e.Items != 80 {
		t.Errorf("reset events: %d records, want 80", e.Items)
	}
	cfg.Reset, cfg.Streams = false, nil
	res, _ = syncOK(t, cfg)
	if u, _ := res.Stream("users"); u.Items > 2 {
		t.Errorf("users after another stream's reset: %d records, want an incremental sync", u.Items)
	}
	checkTables(t, api.Server, cfg.DB)

	cfg.Streams = []string{"nope"}
	var stdout, stderr bytes.Buffer
	if _, err := run(context.Background(), cfg, &stdout, &stderr); !errors.Is(err, connector.ErrUnknownStream) {
		t.Errorf("-streams nope: %v", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("-streams nope printed a summary before the error:\n%s", stdout.String())
	}

	cfg = testConfig(t, api.URL)
	cfg.Discover = true
	stdout.Reset()
	if _, err := run(context.Background(), cfg, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`users: table "users", primary key [id]`, `orders (one partition per users record): table "orders"`, "    amount     LONG", `events: table "events"`} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("-discover output lacks %q:\n%s", w, stdout.String())
		}
	}
}

func TestFaults(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 150, Seed: 5, ErrorRate: 0.15, ThrottleRate: 0.03, RetryAfter: -1, DropRate: 0.05})
	cfg := testConfig(t, api.URL)
	syncOK(t, cfg)
	checkTables(t, api.Server, cfg.DB)
}

func TestInProcessMock(t *testing.T) {
	cfg := testConfig(t, "")
	cfg.Mock = mockapi.Config{Records: 40, Seed: 9}
	res, out := syncOK(t, cfg)
	if !res.Complete() || !strings.Contains(out, "Sync of 3 streams complete") {
		t.Fatalf("in-process mock: %+v\n%s", res, out)
	}
	checkTables(t, mockapi.New(cfg.Mock), cfg.DB)
}
