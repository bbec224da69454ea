package paginatetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/pagekit/pagekit/paginate"
	"go.uber.org/goleak"
)

// Suite is the conformance suite for one paginator over one API. Fill it in
// and call Run from a test.
//
// Every sync is checked against an oracle: the records a full sync must
// deliver. They come from Want when it is set, otherwise from the Handler
// when it is an [Oracle] (a mockapi.Server, or an [API] with ItemsPath).
// The Handler's oracle is asked for the whole listing at the path of the
// full sync's first request, whatever that request's query asks for, so a
// filter that a full sync adds fails by name. A Suite with neither fails,
// unless NoOracle says why there can be none; so does a Suite whose truth
// holds no records, or that checks nothing.
//
// Its last subtest, "rerun", stops a sync by every reason the runner has (a
// server that repeats a page, an error, a cancel, Options.Limits.MaxPages, a
// crash), runs five more syncs on the same checkpoint store, and checks
// that the destination ends equal to the source, with no record delivered
// twice within one sync unless the API changed it in between (the
// oracle's form of the record says whether it did, not the decoded T). When
// the Handler is also a [Mutator] (a mockapi.Server is), it updates and
// inserts records before the run that resumes and grows the source by more
// than a page two runs later, so the Handler's records are not the same
// after Run. Set Options.HighWater as the connector does: the runs after
// the first completed sync are then incremental syncs from its mark, held
// to the same promise, and a failure names the mark or the tie that lost
// records.
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
	// Options are the run options every sync of the suite starts from:
	// set them as the connector does, HighWater included. The suite sets
	// Key, Store and Group.Pages (one page a commit, so that a stop after
	// page k is there) itself, and a fast Retry policy when Retry is zero.
	Options paginate.Options[T]
	// Liar, when set, serves the same records as Handler but reports a
	// total that lies (larger or smaller). A sync against it must deliver
	// every record or fail with an error; never stop early in silence.
	Liar http.Handler
	// Skip names subtests to skip ("resume", "fault", "drop", "cancel",
	// "loop", "liar", "rerun"); any other name fails the suite. The full
	// sync and its "oracle" subtest always run.
	Skip []string
}

var errCrash = errors.New("paginatetest: simulated crash")

// checks are the names of the subtests Skip may name, in the order they run.
var checks = []string{"resume", "fault", "drop", "cancel", "loop", "liar", "rerun"}

// Run runs the suite as subtests of t. Failures say what the paginator got
// wrong and show go-cmp diffs of the synced table against the oracle's
// records, keyed by Key.
func (s Suite[T]) Run(t *testing.T) {
	t.Helper()
	(&kit[T]{Suite: s}).run(stdT{t})
}

// kit is a Suite being run.
type kit[T any] struct {
	Suite[T]
	// checked counts the syncs compared with a truth that holds records.
	checked atomic.Int64
}

func (s *kit[T]) run(t testingT) {
	t.Helper()
	if s.Handler == nil || s.New == nil || s.Key == nil {
		t.Fatalf("paginatetest: Suite needs Handler, New and Key")
	}
	for _, name := range s.Skip {
		if !slices.Contains(checks, name) {
			t.Fatalf("paginatetest: Suite.Skip names %q, which is none of the checks (%s)", name, strings.Join(checks, ", "))
		}
	}
	if err := s.hasOracle(); err != nil {
		t.Fatalf("%v", err)
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
	if s.checked.Load() == 0 {
		t.Errorf("paginatetest: the suite checked nothing: with NoOracle the full sync stands for the truth and is not checked, and Skip leaves out every check that compares a sync with it (%s)", strings.Join(s.Skip, ", "))
	}
}

type fullSync[T any] struct {
	truth    *truth[T]
	res      paginate.Result
	requests int
	// items is how many records each page held, in order.
	items []int
}

// full runs one uninterrupted sync and checks it against the oracle.
func (s *kit[T]) full(t testingT) fullSync[T] {
	t.Helper()
	api := &counting{h: s.Handler}
	tb := newTable(s.Key)
	var items []int
	sink := paginate.SinkFunc[T](func(_ context.Context, page []T) error {
		tb.upsert(page)
		items = append(items, len(page))
		return nil
	})
	srv := serve(t, api)
	res, err := s.sync(t.Context(), srv, sink, new(paginate.MemoryStore), nil)
	requests, first := api.requests()
	if first == nil {
		t.Fatalf("full sync: the paginator sent no request to the Handler (%s, %s, err %v): New must return a paginator that reads the baseURL it is given (%s) with the client it is given, and the suite can only check a paginator against the API it serves", count(res.Pages, "page"), records(len(tb.rows)), err, srv.URL)
	}
	tr, terr := s.wantFrom(t, first, tb)
	if terr != nil {
		t.Fatalf("%v", terr)
	}
	if err != nil {
		t.Fatalf("full sync: %s", s.explainRun(err, tr, tb))
	}
	if len(tr.order) == 0 {
		if s.NoOracle != "" {
			t.Fatalf("full sync: it delivered no records, and with no oracle it stands for the truth: the suite would check nothing, and any paginator would pass it. Give the Handler records on at least 2 pages")
		}
		t.Fatalf("full sync: %s lists no records: the suite would check nothing, and any paginator would pass it. Give the Handler records on at least 2 pages", tr.source)
	}
	what := fmt.Sprintf("full sync (%s, stop %q)", count(res.Pages, "page"), res.Stop)
	if !res.Stop.Complete() {
		t.Errorf("%s: want a stop that means the data was read to its end", what)
	}
	if len(tb.twice) > 0 {
		t.Errorf("%s delivered %d records more than once (keys %s): the paginator read some records twice, as it does when it asks for a page twice or its pages overlap", what, len(tb.twice), quoted(tb.twice))
	}
	if res.Pages < 2 && len(tb.rows) >= len(tr.order) {
		// One page that held every record: a short sync is the oracle
		// check's to explain.
		t.Errorf("%s: the suite needs an API with at least 2 pages", what)
	}
	for _, w := range res.Warnings {
		t.Logf("full sync: the runner warns: %s", w)
	}
	t.Run("oracle", func(t testingT) {
		if s.NoOracle != "" {
			t.Skipf("no oracle (%s): the first full sync's %d records stand for the truth, so a paginator that is wrong the same way on every run (a record skipped on each page, a first page never asked for, a sync that ends a page early, a full sync that filters) passes; the other subtests only check that every sync agrees with the first. Set Want, or use a Handler that is a paginatetest.Oracle, to check these", s.NoOracle, len(tb.rows))
		}
		t.Logf("checked against %s", tr.source)
		if tr.filter != "" {
			t.Errorf("%s", tr.filter)
		}
		s.compare(t, what, tr, tb, clues[T]{stop: res.Stop})
	})
	return fullSync[T]{truth: tr, res: res, requests: requests, items: items}
}

// resume crashes a sync after every page and checks that the next run
// goes on from there and completes the table, delivering nothing twice.
func (s *kit[T]) resume(t testingT, ref fullSync[T]) {
	pages := ref.res.Pages
	s.sub(t, "resume", func(t testingT) {
		for k := 1; k < pages; k++ {
			t.Run(fmt.Sprintf("after-page-%d", k), func(t testingT) {
				srv := serve(t, s.Handler)
				tb := newTable(s.Key)
				store := new(paginate.MemoryStore)
				res, err := s.sync(t.Context(), srv, tb.crashAfter(k), store, nil)
				if !errors.Is(err, errCrash) {
					t.Fatalf("first run: err = %v, want the crash after page %d (stop %v)", err, k, res.Stop)
				}
				res, err = s.sync(t.Context(), srv, tb.sink(), store, nil)
				if err != nil {
					t.Fatalf("resumed run: %s", s.explainRun(err, ref.truth, tb))
				}
				what := fmt.Sprintf("a crash after page %d, then a resumed run", k)
				if !res.Resumed || res.Pages != pages-k {
					t.Errorf("resumed run: resumed %v, %d pages; want true, %d (it must go on after the last committed page, not start again)", res.Resumed, res.Pages, pages-k)
				}
				s.twice(t, what, tb)
				s.compare(t, what, ref.truth, tb, clues[T]{stop: res.Stop})
			})
		}
	})
}

// twice fails t when a run that went on from another's checkpoint, on a
// source that did not change, delivered again records the run before it
// had committed.
func (s *kit[T]) twice(t testingT, what string, tb *table[T]) {
	t.Helper()
	if len(tb.twice) > 0 {
		t.Errorf("%s: the run that went on from the checkpoint delivered again %s that the run before it had committed, although the source did not change (keys %s): a run that resumes must go on after the last page committed, not read part of it again", what, records(len(tb.twice)), quoted(tb.twice))
	}
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
func (s *kit[T]) faults(t testingT, ref fullSync[T]) {
	for _, tf := range transients {
		s.sub(t, tf.name, func(t testingT) {
			for n := 1; n <= ref.requests; n++ {
				t.Run(fmt.Sprintf("request-%d", n), func(t testingT) {
					h := WithFaults(s.Handler, func(i int) (Fault, bool) { return tf.fault, i == n })
					tb := newTable(s.Key)
					res, err := s.sync(t.Context(), serve(t, h), tb.sink(), new(paginate.MemoryStore), nil)
					switch {
					case err != nil && permanentFault(err):
						t.Fatalf("request %d was %s, a transient fault: the paginator marked %s as permanent; it should be retried (return the error without paginate.Permanent). The sync failed with: %v", n, tf.how, tf.what, err)
					case err != nil:
						t.Fatalf("request %d was %s, a transient fault that one retry gets past, but the sync failed: %s", n, tf.how, s.explainRun(err, ref.truth, tb))
					}
					if res.Retries < 1 {
						t.Errorf("request %d was %s, but Retries = %d: the paginator did not see the fault", n, tf.how, res.Retries)
					}
					s.compare(t, fmt.Sprintf("a sync whose request %d was %s", n, tf.how), ref.truth, tb, clues[T]{stop: res.Stop})
				})
			}
		})
	}
}

// cancel cancels a sync after every page and checks that the next run
// completes the table, delivering nothing twice.
func (s *kit[T]) cancel(t testingT, ref fullSync[T]) {
	pages := ref.res.Pages
	s.sub(t, "cancel", func(t testingT) {
		defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		for k := 1; k < pages; k++ {
			t.Run(fmt.Sprintf("at-page-%d", k), func(t testingT) {
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
				res, err = s.sync(t.Context(), srv, tb.sink(), store, nil)
				if err != nil {
					t.Fatalf("run after the cancel: %s", s.explainRun(err, ref.truth, tb))
				}
				what := fmt.Sprintf("a sync cancelled at page %d, then another run", k)
				s.twice(t, what, tb)
				s.compare(t, what, ref.truth, tb, clues[T]{stop: res.Stop})
			})
		}
	})
}

// loop serves one page, one that holds records, for every later request
// and checks that the sync fails instead of reading it forever or stopping
// in silence.
func (s *kit[T]) loop(t testingT, ref fullSync[T]) {
	s.sub(t, "loop", func(t testingT) {
		// With RepeatedPageEnds, a page served again right after itself
		// is the end of the data, so the server is stuck one page later:
		// position p+2 gets page p, a repeat of an earlier page, which is
		// a loop either way.
		gap := 1
		if s.Options.Checks.RepeatedPageEnds {
			gap = 2
		}
		p := ref.stuckPage(gap)
		if p == 0 {
			t.Skipf("the API has %d pages (%v records each): a loop check needs a page with records and %d more pages after it", len(ref.items), ref.items, gap)
		}
		tb := newTable(s.Key)
		opts := s.Options
		opts.Limits.MaxPages = 3 * ref.res.Pages
		if gap > 1 {
			opts.Concurrency = 1 // requests in the order of positions, so that the repeat is of page p
		}
		res, err := s.syncOpts(t.Context(), serve(t, stuck(s.Handler, p, p+gap)), tb.sink(), new(paginate.MemoryStore), opts)
		server := fmt.Sprintf("a server that serves page %d for every request after the %s", p, ordinal(p+gap-1))
		if err == nil || res.Stop == paginate.StopMaxPages {
			t.Fatalf("%s: %s, stop %q, err %v; want an error (ErrLoop): the sync must stop loudly, not read the page forever or end in silence", server, count(res.Pages, "page"), res.Stop, err)
		}
		if !errors.Is(err, paginate.ErrLoop) {
			t.Logf("%s: detected, but not as paginate.ErrLoop: %v", server, err)
		}
	})
}

// stuckPage returns the first page from page 2 on, or else page 1, that
// holds records and has gap pages after it; 0 when there is none.
func (f fullSync[T]) stuckPage(gap int) int {
	found := 0
	for p := 1; p+gap <= len(f.items); p++ {
		if f.items[p-1] == 0 {
			continue
		}
		if p >= 2 {
			return p
		}
		found = p
	}
	return found
}

// liar syncs from a server whose totals lie and checks that a short sync
// says so.
func (s *kit[T]) liar(t testingT, ref fullSync[T]) {
	s.sub(t, "liar", func(t testingT) {
		if s.Liar == nil {
			t.Skipf("no Liar handler")
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
			s.compare(t, "a sync from a server whose totals lie", ref.truth, tb, clues[T]{stop: res.Stop})
		}
	})
}

func (s *kit[T]) sub(t testingT, name string, f func(t testingT)) {
	t.Run(name, func(t testingT) {
		if slices.Contains(s.Skip, name) {
			t.Skipf("skipped by Suite.Skip")
		}
		f(t)
	})
}

// serve starts a test server for h that lives until t ends. Both syncs of a
// resume or cancel subtest reach the API at one address, as they would a
// real API, so that absolute next URLs in the checkpoint still lead to it.
func serve(t testingT, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func (s *kit[T]) sync(ctx context.Context, srv *httptest.Server, sink paginate.Sink[T], store paginate.Store, observe func(paginate.Event)) (paginate.Result, error) {
	opts := s.Options
	opts.Observe = observe
	return s.syncOpts(ctx, srv, sink, store, opts)
}

func (s *kit[T]) syncOpts(ctx context.Context, srv *httptest.Server, sink paginate.Sink[T], store paginate.Store, opts paginate.Options[T]) (paginate.Result, error) {
	client := srv.Client()
	defer client.CloseIdleConnections()
	opts.Store = store
	opts.Key = s.Key
	// One page a commit, so that a crash or a cancel after page k stops
	// there and not at the end of k's group.
	opts.Group.Pages = 1
	if reflect.ValueOf(opts.Retry).IsZero() {
		opts.Retry = paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxRetryAfter: 10 * time.Millisecond}
	}
	return paginate.Run(ctx, s.New(srv.URL, client), sink, opts)
}
