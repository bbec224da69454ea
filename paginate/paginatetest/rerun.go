package paginatetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/pagekit/pagekit/paginate"
)

// reruns is how many syncs follow the stopped one in a rerun check.
const reruns = 5

// stopKinds are the ways the rerun subtest stops a sync before the end of
// the data: a server that repeats a page (StopLoopDetected, or
// StopRepeatedPage with Options.Checks.RepeatedPageEnds), a request the server
// refuses (StopError), a cancel (StopCancelled), Options.Limits.MaxPages
// (StopMaxPages), and a crash of the process before it writes the next page.
var stopKinds = []string{"loop", "error", "cancel", "max-pages", "crash"}

// rerun stops a sync after a page by every reason the runner has, changes
// the source between the later runs when the Handler is a [Mutator], runs
// five more syncs, and checks that the destination ends equal to the
// source, with no record delivered twice within one sync unless the API
// changed it in between.
func (s *kit[T]) rerun(t testingT, ref fullSync[T]) {
	pages := ref.res.Pages
	mid := ref.pageNear(max(1, pages/2))
	s.sub(t, "rerun", func(t testingT) {
		if _, ok := s.Handler.(Mutator); ok && !s.mutates() {
			t.Logf("the Handler is a paginatetest.Mutator, but the suite's truth is not its oracle: the source stays as it is between runs")
		}
		for _, kind := range stopKinds {
			at := []int{mid}
			if kind == "loop" && pages > mid {
				at = append(at, pages) // a server that answers past the end with the last page
			}
			for _, k := range at {
				t.Run(fmt.Sprintf("%s-after-page-%d", kind, k), func(t testingT) {
					s.rerunAfter(t, ref, kind, k)
				})
			}
		}
	})
}

// pageNear returns the page nearest to p, before it first, that holds
// records and is not the last, or p when there is none: a page to stop
// after, and for the stuck-server stop, a page to repeat.
func (f fullSync[T]) pageNear(p int) int {
	for d := 0; d < len(f.items); d++ {
		for _, q := range []int{p - d, p + d} {
			if q >= 1 && q < len(f.items) && f.items[q-1] > 0 {
				return q
			}
		}
	}
	return p
}

// mutates reports whether the rerun subtest changes the source: the
// Handler must let it, and say what the syncs must then deliver.
func (s *kit[T]) mutates() bool {
	_, ok := s.Handler.(Mutator)
	return ok && s.Want == nil && s.NoOracle == ""
}

func (s *kit[T]) rerunAfter(t testingT, ref fullSync[T], kind string, k int) {
	sw := &switchable{h: s.Handler}
	api := &counting{h: sw}
	srv := serve(t, api)
	d := &dest[T]{table: newTable(s.Key), versions: ref.truth.versions}
	store := new(paginate.MemoryStore)
	res, err := s.stopAt(t.Context(), kind, k, ref.res.Pages, srv, sw, d, store)
	if msg := stoppedBadly(kind, k, ref.res.Pages, res, err); msg != "" {
		t.Fatalf("the first run, to be stopped by %s after page %d: %s", kind, k, msg)
	}
	d.endRun(1, res.Resumed)
	sw.set(s.Handler)
	perPage := max(1, len(ref.truth.order)/max(1, ref.res.Pages))
	changed := ""
	var last lastRun
	for i := 2; i <= reruns+1; i++ {
		if s.change(t, i, perPage, ref.truth.req, d) {
			changed = ", with the source changed before runs 2 and 4"
		}
		since := res.Checkpoint.Position.Since
		api.reset()
		res, err = s.sync(t.Context(), srv, d.sink(0), store, nil)
		if err != nil {
			t.Fatalf("run %d, after a stop by %s after page %d in run 1: %s", i, kind, k, s.explainRun(err, nil, nil))
		}
		if !res.Stop.Complete() {
			t.Fatalf("run %d, after a stop by %s after page %d in run 1: stop %q, want a complete sync", i, kind, k, res.Stop)
		}
		_, first := api.requests()
		last = lastRun{n: i, since: since, first: first}
		d.endRun(i, res.Resumed)
	}
	want := ref.truth
	if s.mutates() {
		a, err := s.ask(ref.truth.req)
		if err != nil {
			t.Fatalf("%v", err)
		}
		want = a.truth(s.Key, ref.truth.req)
		want.first, want.mutated = ref.truth.first, true
	}
	what := fmt.Sprintf("a sync stopped by %s after page %d, then %d more runs%s", kind, k, reruns, changed)
	if len(d.dups) > 0 {
		t.Errorf("%s: %s delivered again by a run that resumed the sync that had delivered them, although the API had not changed them since (%s): a run that resumes must go on after the last page committed, and never commit a page again", what, records(len(d.dups)), list(d.dups))
	}
	s.compare(t, what, want, d.table, clues[T]{last: &last})
}

// change changes the source before run i of a rerun check, when the suite
// may: a few updates and inserts before the run that resumes (2), growth by
// more than a page between two later runs (4). It reports whether it did,
// and gives d the API's new versions of the records.
func (s *kit[T]) change(t testingT, i, perPage int, listing *request, d *dest[T]) bool {
	m, ok := s.Handler.(Mutator)
	if !ok || !s.mutates() || i != 2 && i != 4 {
		return false
	}
	if i == 2 {
		m.Mutate(perPage/3+1, perPage/2+1)
	} else {
		m.Mutate(0, perPage+1)
	}
	a, err := s.ask(listing)
	if err != nil {
		t.Fatalf("%v", err)
	}
	d.versions = a.versions(s.Key)
	return true
}

// stopAt runs the first sync of a rerun check, and stops it by kind after
// page k.
func (s *kit[T]) stopAt(ctx context.Context, kind string, k, pages int, srv *httptest.Server, sw *switchable, d *dest[T], store paginate.Store) (paginate.Result, error) {
	switch kind {
	case "loop":
		// Replay repeats by arrival, and a server that repeats pages
		// does so by position: fetched one at a time, the two agree.
		// Parallel fetches would get other pages' answers at positions
		// before k, which no runner can tell from real ones.
		sw.set(Replay(s.Handler, k+1))
		opts := s.Options
		opts.Concurrency = 1
		opts.Limits.MaxPages = 3 * pages // a runner that misses the loop stops, and fails the check
		return s.syncOpts(ctx, srv, d.sink(0), store, opts)
	case "error":
		refuse := Fault{Status: http.StatusBadRequest, Body: `{"error":"paginatetest: injected"}`}
		sw.set(WithFaults(s.Handler, func(n int) (Fault, bool) { return refuse, n > k }))
	case "cancel":
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		return s.sync(ctx, srv, d.sink(0), store, func(e paginate.Event) {
			if e.Kind == paginate.EventPageCommitted && e.Pages == k {
				cancel()
			}
		})
	case "max-pages":
		opts := s.Options
		opts.Limits.MaxPages = k
		return s.syncOpts(ctx, srv, d.sink(0), store, opts)
	case "crash":
		return s.sync(ctx, srv, d.sink(k), store, nil)
	}
	return s.sync(ctx, srv, d.sink(0), store, nil)
}

// stoppedBadly says what is wrong with how the first run of a rerun check
// ended, or returns "".
func stoppedBadly(kind string, k, pages int, res paginate.Result, err error) string {
	var ok bool
	switch kind {
	case "loop":
		// Any error is a loud stop (ErrLoop, or the paginator's own check
		// that the server answered another page than asked for); a nil
		// error must be the opt-in end, or a sync that knew where the data
		// ended without asking past it.
		ok = err != nil && res.Stop != paginate.StopNone || err == nil && res.Stop == paginate.StopRepeatedPage ||
			k == pages && err == nil && res.Stop.Complete()
	case "error":
		ok = err != nil && res.Stop == paginate.StopError
	case "cancel":
		ok = errors.Is(err, context.Canceled) && res.Stop == paginate.StopCancelled && res.Pages == k
	case "max-pages":
		ok = err == nil && res.Stop == paginate.StopMaxPages && res.Pages == k
	case "crash":
		ok = errors.Is(err, errCrash)
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("%s, stop %q, err %v", count(res.Pages, "page"), res.Stop, err)
}

// dest is the destination of a rerun check: a table that also notes the
// records a sync delivers again although the API did not change them. A
// sync is a run that starts from the start and the runs that resume it; a
// record delivered again by a later sync is that sync's, not a duplicate.
type dest[T any] struct {
	*table[T]
	// versions holds the API's form of each record, by key, as it is
	// while the run in progress reads it: the source changes between
	// runs only. Nil when the oracle gives none (Want, NoOracle), and
	// then the source never changes.
	versions map[string]string
	run      []T               // delivered by the run in progress
	sync     map[string]string // delivered by the sync in progress: key -> version
	dups     []string
}

// sink writes to the table; after crashAfter pages, when it is positive,
// it fails as a crashed process would.
func (d *dest[T]) sink(crashAfter int) paginate.Sink[T] {
	n := 0
	return paginate.SinkFunc[T](func(_ context.Context, items []T) error {
		if n++; crashAfter > 0 && n > crashAfter {
			return errCrash
		}
		d.upsert(items)
		d.run = append(d.run, items...)
		return nil
	})
}

// endRun notes the duplicates of run n, which resumed the sync before it
// or started a new one: records the sync had delivered already, in the
// version the API still holds. Whether a record changed is the API's to
// say, not the decoded record's, which may not hold the fields that
// changed. Only the runs after the stopped one count: what the first run
// does against a faulty server is the other subtests' business, what the
// checkpoint it left makes later runs do is this one's.
func (d *dest[T]) endRun(n int, resumed bool) {
	if !resumed || d.sync == nil {
		d.sync = make(map[string]string)
	}
	for _, it := range d.run {
		k := d.key(it)
		v := d.versions[k]
		if old, ok := d.sync[k]; ok && n > 1 && old == v {
			d.dups = append(d.dups, fmt.Sprintf("%q in run %d", k, n))
		}
		d.sync[k] = v
	}
	d.run = d.run[:0]
}

// switchable serves with a handler that can be replaced, so that every run
// of a rerun check reaches the API at one address, faulty or not.
type switchable struct {
	mu sync.RWMutex
	h  http.Handler
}

func (s *switchable) set(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = h
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	h := s.h
	s.mu.RUnlock()
	h.ServeHTTP(w, r)
}
