package paginatetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"go.uber.org/goleak"
)

// Suite is the conformance suite for one paginator over one API. Fill it in
// and call Run from a test.
//
// Every sync is checked against an oracle: the records a full sync must
// deliver. They come from Want when it is set, otherwise from the Handler
// when it is an [Oracle] (a mockapi.Server, or an [API] with ItemsPath).
// A Suite with neither fails, unless NoOracle says why there can be none.
//
// Its last subtest, "rerun", stops a sync by every reason the runner has (a
// server that repeats a page, an error, a cancel, Options.MaxPages, a
// crash), runs five more syncs on the same checkpoint store, and checks
// that the destination ends equal to the source with no record delivered
// twice, unchanged, within one sync. When the Handler is also a [Mutator]
// (a mockapi.Server is), it changes and grows the source between those
// runs, so the Handler's records are not the same after Run.
type Suite[T any] struct {
	// Handler serves the API the paginator reads: a scripted [API], a mock,
	// or a recording. It must hold at least two pages of records.
	Handler http.Handler
	// New returns the paginator under test, reading from baseURL (the
	// address of a test server running Handler) with client.
	New func(baseURL string, client *http.Client) paginate.Paginator[T]
	// Key returns a record's primary key.
	Key func(T) string
	// Want, when set, lists every record a full sync must deliver, in the
	// order the API serves them, instead of the Handler's [Oracle].
	Want []T
	// NoOracle, when neither Want nor the Handler can say what a full sync
	// must deliver, says why. The first full sync then stands for the
	// truth: the suite checks that every other sync agrees with it, and
	// its "oracle" subtest is skipped with what that leaves unchecked.
	NoOracle string
	// Options are the run options every sync of the suite starts from.
	// The suite sets Key, Store and a fast Retry policy itself.
	Options paginate.Options[T]
	// Liar, when set, serves the same records as Handler but reports a
	// total that lies (larger or smaller). A sync against it must deliver
	// every record or fail with an error; never stop early in silence.
	Liar http.Handler
	// Skip names subtests to skip ("resume", "fault", "drop", "cancel",
	// "loop", "liar", "rerun").
	Skip []string
}

var errCrash = errors.New("paginatetest: simulated crash")

// Run runs the suite as subtests of t. Failures say what the paginator got
// wrong and show go-cmp diffs of the synced table against the oracle's
// records, keyed by Key.
func (s Suite[T]) Run(t *testing.T) {
	t.Helper()
	if s.Handler == nil || s.New == nil || s.Key == nil {
		t.Fatal("paginatetest: Suite needs Handler, New and Key")
	}
	if err := s.hasOracle(); err != nil {
		t.Fatal(err)
	}
	ref := s.full(t)
	if t.Failed() {
		return
	}
	s.resume(t, ref)
	s.faults(t, ref)
	s.cancel(t, ref)
	s.loop(t, ref)
	s.liar(t, ref)
	s.rerun(t, ref)
}

type fullSync[T any] struct {
	truth    *truth[T]
	res      paginate.Result
	requests int
	first    *request // the first request, for the oracle
}

// full runs one uninterrupted sync and checks it against the oracle.
func (s Suite[T]) full(t *testing.T) fullSync[T] {
	t.Helper()
	api := &counting{h: s.Handler}
	tb := newTable(s.Key)
	res, err := s.sync(t.Context(), serve(t, api), tb.sink(), new(paginate.MemoryStore), nil)
	requests, first := api.requests()
	if err != nil {
		t.Fatalf("full sync: %s", explainRun(err))
	}
	what := fmt.Sprintf("full sync (%d pages, stop %q)", res.Pages, res.Stop)
	if !res.Stop.Complete() {
		t.Errorf("%s: want a stop that means the data was read to its end", what)
	}
	if len(tb.twice) > 0 {
		t.Errorf("%s delivered %d records more than once (keys %s): the paginator read some records twice, as it does when it asks for a page twice or its pages overlap", what, len(tb.twice), quoted(tb.twice))
	}
	if res.Pages < 2 {
		t.Errorf("%s: the suite needs an API with at least 2 pages", what)
	}
	tr, err := s.wantFrom(first, tb)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("oracle", func(t *testing.T) {
		if s.NoOracle != "" {
			t.Skipf("no oracle (%s): the first full sync's %d records stand for the truth, so a paginator that is wrong the same way on every run (a record skipped on each page, a first page never asked for, a sync that ends a page early) passes; the other subtests only check that every sync agrees with the first. Set Want, or use a Handler that is a paginatetest.Oracle, to check these", s.NoOracle, len(tb.rows))
		}
		t.Logf("checked against %s", tr.source)
		s.compare(t, what, tr, tb)
	})
	return fullSync[T]{truth: tr, res: res, requests: requests, first: first}
}

// resume crashes a sync after every page and checks that the next run
// goes on from there and completes the table.
func (s Suite[T]) resume(t *testing.T, ref fullSync[T]) {
	pages := ref.res.Pages
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
					t.Fatalf("resumed run: %s", explainRun(err))
				}
				if !res.Resumed || res.Pages != pages-k {
					t.Errorf("resumed run: resumed %v, %d pages; want true, %d (it must go on after the last committed page, not start again)", res.Resumed, res.Pages, pages-k)
				}
				s.compare(t, fmt.Sprintf("a crash after page %d, then a resumed run", k), ref.truth, tb)
			})
		}
	})
}

// transient is a fault that a retry of the same request gets past.
type transient struct {
	name  string // the subtest
	fault Fault
	what  string // "a truncated body"
	how   string // what the request met
}

var transients = []transient{
	{"fault", Fault{Status: http.StatusServiceUnavailable, Body: `{"error":"injected"}`},
		"a 503 Service Unavailable", "answered with 503 Service Unavailable"},
	{"drop", Fault{Drop: true},
		"a truncated body", "cut mid-body (the server closed the connection halfway through the body, so the client read unexpected EOF)"},
}

// faults injects each transient fault at every request in turn and checks
// that the sync retries it and completes the table.
func (s Suite[T]) faults(t *testing.T, ref fullSync[T]) {
	for _, tf := range transients {
		s.sub(t, tf.name, func(t *testing.T) {
			for n := 1; n <= ref.requests; n++ {
				t.Run(fmt.Sprintf("request-%d", n), func(t *testing.T) {
					h := WithFaults(s.Handler, func(i int) (Fault, bool) { return tf.fault, i == n })
					tb := newTable(s.Key)
					res, err := s.sync(t.Context(), serve(t, h), tb.sink(), new(paginate.MemoryStore), nil)
					switch {
					case err != nil && permanentFault(err):
						t.Fatalf("request %d was %s, a transient fault: the paginator marked %s as permanent; it should be retried (return the error without paginate.Permanent). The sync failed with: %v", n, tf.how, tf.what, err)
					case err != nil:
						t.Fatalf("request %d was %s, a transient fault that one retry gets past, but the sync failed: %s", n, tf.how, explainRun(err))
					}
					if res.Retries < 1 {
						t.Errorf("request %d was %s, but Retries = %d: the paginator did not see the fault", n, tf.how, res.Retries)
					}
					s.compare(t, fmt.Sprintf("a sync whose request %d was %s", n, tf.how), ref.truth, tb)
				})
			}
		})
	}
}

// cancel cancels a sync after every page and checks that the next run
// completes the table.
func (s Suite[T]) cancel(t *testing.T, ref fullSync[T]) {
	pages := ref.res.Pages
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
					t.Fatalf("run after the cancel: %s", explainRun(err))
				}
				s.compare(t, fmt.Sprintf("a sync cancelled at page %d, then another run", k), ref.truth, tb)
			})
		}
	})
}

// loop serves page 2 for every later request and checks that the sync
// fails instead of reading it forever or stopping in silence.
func (s Suite[T]) loop(t *testing.T, ref fullSync[T]) {
	pages := ref.res.Pages
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
}

// liar syncs from a server whose totals lie and checks that a short sync
// says so.
func (s Suite[T]) liar(t *testing.T, ref fullSync[T]) {
	s.sub(t, "liar", func(t *testing.T) {
		if s.Liar == nil {
			t.Skip("no Liar handler")
		}
		tb := newTable(s.Key)
		res, err := s.sync(t.Context(), serve(t, s.Liar), tb.sink(), new(paginate.MemoryStore), nil)
		if err != nil {
			return // failing loudly is allowed
		}
		want := ref.truth.table
		if len(tb.rows) < len(want.rows) && res.Stop != paginate.StopTotalReached {
			t.Errorf("a lying total: %d of %d records, stop %v: a short sync must say so (total reached) or fail", len(tb.rows), len(want.rows), res.Stop)
		}
		if len(tb.rows) == len(want.rows) {
			s.compare(t, "a sync from a server whose totals lie", ref.truth, tb)
		}
	})
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
	// One page a commit, so that a crash or a cancel after page k stops
	// there and not at the end of k's group.
	opts.Group.Pages = 1
	if opts.Retry == (paginate.Retry{}) {
		opts.Retry = paginate.Retry{InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxRetryAfter: 10 * time.Millisecond}
	}
	return paginate.Run(ctx, s.New(srv.URL, client), sink, opts)
}
