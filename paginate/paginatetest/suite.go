package paginatetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"go.uber.org/goleak"
)

// Suite is the conformance suite for one paginator over one API. Fill it in
// and call Run from a test.
type Suite[T any] struct {
	// Handler serves the API the paginator reads: a scripted [API], a mock,
	// or a recording. It must hold at least two pages of records.
	Handler http.Handler
	// New returns the paginator under test, reading from baseURL (the
	// address of a test server running Handler) with client.
	New func(baseURL string, client *http.Client) paginate.Paginator[T]
	// Key returns a record's primary key.
	Key func(T) string
	// Want, when set, lists every record a full sync must deliver.
	// Otherwise the suite's first full sync defines it.
	Want []T
	// Options are the run options every sync of the suite starts from.
	// The suite sets Key, Store and a fast Retry policy itself.
	Options paginate.Options[T]
	// Liar, when set, serves the same records as Handler but reports a
	// total that lies (larger or smaller). A sync against it must deliver
	// every record or fail with an error; never stop early in silence.
	Liar http.Handler
	// Skip names subtests to skip ("resume", "fault", "drop", "cancel",
	// "loop", "liar").
	Skip []string
}

var errCrash = errors.New("paginatetest: simulated crash")

// Run runs the suite as subtests of t. Failures show go-cmp diffs of the
// synced table against the expected records, keyed by Key.
func (s Suite[T]) Run(t *testing.T) {
	t.Helper()
	if s.Handler == nil || s.New == nil || s.Key == nil {
		t.Fatal("paginatetest: Suite needs Handler, New and Key")
	}
	ref := s.full(t)
	if t.Failed() {
		return
	}
	pages, requests := ref.res.Pages, ref.requests
	s.sub(t, "resume", func(t *testing.T) {
		for k := 1; k < pages; k++ {
			t.Run(fmt.Sprintf("after-page-%d", k), func(t *testing.T) {
				srv := serve(t, s.Handler)
				tb := newTable(s.Key)
				store := new(paginate.MemoryStore)
				res, err := s.sync(t.Context(), srv, tb.crashAfter(k), store, nil)
				if !errors.Is(err, errCrash) {
					t.Fatalf("first run: err = %v, want the crash after page %d (stop %v)", err, k, res.Stop)
				}
				res, err = s.sync(t.Context(), srv, tb.sink(), store, nil)
				if err != nil {
					t.Fatalf("resumed run: %v", err)
				}
				if !res.Resumed || res.Pages != pages-k {
					t.Errorf("resumed run: resumed %v, %d pages; want true, %d (it must go on after the last committed page, not start again)", res.Resumed, res.Pages, pages-k)
				}
				s.compare(t, ref.table, tb)
			})
		}
	})
	for _, kind := range []string{"fault", "drop"} {
		s.sub(t, kind, func(t *testing.T) {
			for n := 1; n <= requests; n++ {
				t.Run(fmt.Sprintf("request-%d", n), func(t *testing.T) {
					f := Fault{Status: http.StatusServiceUnavailable, Body: `{"error":"injected"}`}
					if kind == "drop" {
						f = Fault{Drop: true}
					}
					h := WithFaults(s.Handler, func(i int) (Fault, bool) { return f, i == n })
					tb := newTable(s.Key)
					res, err := s.sync(t.Context(), serve(t, h), tb.sink(), new(paginate.MemoryStore), nil)
					if err != nil {
						t.Fatalf("sync with a %s at request %d: %v", kind, n, err)
					}
					if res.Retries < 1 {
						t.Errorf("Retries = %d, want the injected %s retried", res.Retries, kind)
					}
					s.compare(t, ref.table, tb)
				})
			}
		})
	}
	s.sub(t, "cancel", func(t *testing.T) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		for k := 1; k < pages; k++ {
			t.Run(fmt.Sprintf("at-page-%d", k), func(t *testing.T) {
				srv := serve(t, s.Handler)
				tb := newTable(s.Key)
				store := new(paginate.MemoryStore)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				res, err := s.sync(ctx, srv, tb.sink(), store, func(e paginate.Event) {
					if e.Kind == paginate.EventPageCommitted && e.Pages == k {
						cancel()
					}
				})
				if !errors.Is(err, context.Canceled) || res.Stop != paginate.StopCancelled || res.Pages != k {
					t.Fatalf("cancelled run = %d pages, stop %v, err %v; want %d pages, cancelled, context.Canceled", res.Pages, res.Stop, err, k)
				}
				if _, err := s.sync(t.Context(), srv, tb.sink(), store, nil); err != nil {
					t.Fatalf("run after the cancel: %v", err)
				}
				s.compare(t, ref.table, tb)
			})
		}
	})
	s.sub(t, "loop", func(t *testing.T) {
		if pages < 3 {
			t.Skipf("the API has %d pages; a loop test needs 3", pages)
		}
		tb := newTable(s.Key)
		opts := s.Options
		opts.MaxPages = 3 * pages
		res, err := s.syncOpts(t.Context(), serve(t, Replay(s.Handler, 3)), tb.sink(), new(paginate.MemoryStore), opts)
		if err == nil || res.Stop == paginate.StopMaxPages {
			t.Fatalf("a server that serves page 2 for every later request: stop %v, err %v; want an error (ErrLoop)", res.Stop, err)
		}
		if !errors.Is(err, paginate.ErrLoop) {
			t.Logf("detected, but not as paginate.ErrLoop: %v", err)
		}
	})
	s.sub(t, "liar", func(t *testing.T) {
		if s.Liar == nil {
			t.Skip("no Liar handler")
		}
		tb := newTable(s.Key)
		res, err := s.sync(t.Context(), serve(t, s.Liar), tb.sink(), new(paginate.MemoryStore), nil)
		if err != nil {
			return // failing loudly is allowed
		}
		if len(tb.rows) < len(ref.table.rows) && res.Stop != paginate.StopTotalReached {
			t.Errorf("a lying total: %d of %d records, stop %v: a short sync must say so (total reached) or fail", len(tb.rows), len(ref.table.rows), res.Stop)
		}
		if len(tb.rows) == len(ref.table.rows) {
			s.compare(t, ref.table, tb)
		}
	})
}

type fullSync[T any] struct {
	table    *table[T]
	res      paginate.Result
	requests int
}

// full runs one uninterrupted sync and checks it against Want.
func (s Suite[T]) full(t *testing.T) fullSync[T] {
	t.Helper()
	api := &counting{h: s.Handler}
	tb := newTable(s.Key)
	res, err := s.sync(t.Context(), serve(t, api), tb.sink(), new(paginate.MemoryStore), nil)
	if err != nil {
		t.Fatalf("full sync: %v", err)
	}
	if !res.Stop.Complete() {
		t.Errorf("full sync stopped with %q, want a stop that means the data was read to its end", res.Stop)
	}
	if len(tb.twice) > 0 {
		t.Errorf("full sync delivered keys more than once: %q", tb.twice)
	}
	if res.Pages < 2 {
		t.Errorf("full sync read %d page(s); the suite needs an API with at least 2", res.Pages)
	}
	if s.Want != nil {
		want := newTable(s.Key)
		_ = want.sink().Write(t.Context(), s.Want)
		s.compare(t, want, tb)
	}
	return fullSync[T]{table: tb, res: res, requests: int(api.n.Load())}
}

func (s Suite[T]) sub(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(t *testing.T) {
		if slices.Contains(s.Skip, name) {
			t.Skip("skipped by Suite.Skip")
		}
		f(t)
	})
}

// serve starts a test server for h that lives until t ends. Both syncs of a
// resume or cancel subtest reach the API at one address, as they would a
// real API, so that absolute next URLs in the checkpoint still lead to it.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func (s Suite[T]) sync(ctx context.Context, srv *httptest.Server, sink paginate.Sink[T], store paginate.Store, observe func(paginate.Event)) (paginate.Result, error) {
	opts := s.Options
	opts.Observe = observe
	return s.syncOpts(ctx, srv, sink, store, opts)
}

func (s Suite[T]) syncOpts(ctx context.Context, srv *httptest.Server, sink paginate.Sink[T], store paginate.Store, opts paginate.Options[T]) (paginate.Result, error) {
	client := srv.Client()
	defer client.CloseIdleConnections()
	opts.Store = store
	opts.Key = s.Key
	if opts.Retry == (paginate.Retry{}) {
		opts.Retry = paginate.Retry{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond}
	}
	return paginate.Run(ctx, s.New(srv.URL, client), sink, opts)
}

// compare reports the difference between two tables as a go-cmp diff of
// their keys and rows.
func (s Suite[T]) compare(t *testing.T, want, got *table[T]) {
	t.Helper()
	if diff := gocmp.Diff(want.sorted(), got.sorted()); diff != "" {
		t.Errorf("synced table differs from the expected records (-want +got):\n%s", diff)
	}
}

// counting counts the requests its handler serves.
type counting struct {
	h http.Handler
	n atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

// table is a keyed sink, as a database table with a primary key is.
type table[T any] struct {
	key   func(T) string
	rows  map[string]T
	seen  map[string]bool
	twice []string
}

func newTable[T any](key func(T) string) *table[T] {
	return &table[T]{key: key, rows: make(map[string]T), seen: make(map[string]bool)}
}

func (tb *table[T]) sink() paginate.Sink[T] {
	return paginate.SinkFunc[T](func(_ context.Context, items []T) error {
		tb.upsert(items)
		return nil
	})
}

// crashAfter is a sink that accepts k pages, then fails as a crashed
// process would, before writing anything of page k+1.
func (tb *table[T]) crashAfter(k int) paginate.Sink[T] {
	n := 0
	return paginate.SinkFunc[T](func(_ context.Context, items []T) error {
		if n++; n > k {
			return errCrash
		}
		tb.upsert(items)
		return nil
	})
}

func (tb *table[T]) upsert(items []T) {
	for _, it := range items {
		k := tb.key(it)
		if tb.seen[k] {
			tb.twice = append(tb.twice, k)
		}
		tb.seen[k] = true
		tb.rows[k] = it
	}
}

// row is one keyed row, for diffs that name the record.
type row[T any] struct {
	Key    string
	Record T
}

func (tb *table[T]) sorted() []row[T] {
	keys := slices.SortedFunc(maps.Keys(tb.rows), cmp.Compare[string])
	out := make([]row[T], len(keys))
	for i, k := range keys {
		out[i] = row[T]{k, tb.rows[k]}
	}
	return out
}
