package strategies_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
)

// This file checks the guarantee of consistency_test.go across stops and
// resumes: a sync of a position-based strategy is stopped at a random page
// (by a failed request, a cancellation or Options.Limits.MaxPages, each of which
// leaves a checkpoint in the middle of the sync), the source changes, the
// sync resumes, maybe stops and resumes again, and completes; then a sync
// runs on a quiet source. The source changes during every run too. After
// the completed sync, the invariant of checkComplete holds; after the
// quiet sync, the table equals the source.

// resumeStop is how a run of a resumed sync is stopped.
type resumeStop int

const (
	stopByError resumeStop = iota
	stopByCancel
	stopByMaxPages
)

func (s resumeStop) String() string {
	return [...]string{"error", "cancel", "max-pages"}[s]
}

// resumeParams are what a seed picks beyond consParams.
type resumeParams struct {
	consParams
	// stops are the stops of the sync, each after pages[i] pages of its
	// run; between two runs the source changes by updates[i] and
	// inserts[i].
	stops          []resumeStop
	pages          []int
	between        [][2]int
	storeKeepsKeys bool
	// defaults leaves Key, TrackKeys and Order to the runner, which takes
	// the key from the table and the order from the marks.
	defaults bool
}

func resumeParamsFor(seed uint64, st consStrategy) resumeParams {
	p := resumeParams{consParams: consParamsFor(seed, st), storeKeepsKeys: seed%4 != 3, defaults: seed%3 == 2}
	r := rand.New(rand.NewPCG(seed, 0x726573756d65))
	n := 1 + r.IntN(3)
	pages := max(2, p.records/p.size)
	for range n {
		p.stops = append(p.stops, resumeStop(r.IntN(3)))
		p.pages = append(p.pages, 1+r.IntN(pages/2+1))
		p.between = append(p.between, [2]int{r.IntN(p.size + 1), r.IntN(p.size/2 + 1)})
	}
	return p
}

// keyedTable is a consTable that knows its records' keys, as a table with
// a primary key does.
type keyedTable struct{ *consTable }

func (keyedTable) Key(u mockapi.User) string { return u.ID }

// plainStore is a Store that keeps no keys of a sync in progress.
type plainStore struct{ paginate.Store }

// failing is the mock API behind a switch that answers every request with
// 400 once armed, as an API that refuses a request does.
type failing struct {
	h    http.Handler
	mu   chan struct{}
	left int // requests to serve before failing; negative: never fail
}

func (f *failing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu <- struct{}{}
	fail := f.left == 0
	if f.left > 0 {
		f.left--
	}
	<-f.mu
	if fail {
		http.Error(w, `{"error":"refused"}`, http.StatusBadRequest)
		return
	}
	f.h.ServeHTTP(w, r)
}

func (f *failing) arm(left int) {
	f.mu <- struct{}{}
	f.left = left
	<-f.mu
}

func TestConsistencyResume(t *testing.T) {
	seeds := consSeeds(t)
	for _, st := range consStrategies {
		if st.stable || st.noTrack {
			continue
		}
		t.Run(st.name, func(t *testing.T) {
			var total resumeOutcome
			for seed := uint64(1); seed <= seeds; seed++ {
				t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
					o := resumeRun(t, st, seed)
					total.resumed += o.resumed
					total.duplicates += o.duplicates
					total.withoutKeys += o.withoutKeys
				})
			}
			t.Logf("%d seeds: %d runs resumed a sync; %d of them reported a duplicate key, %d counted as drifted for want of the keys",
				seeds, total.resumed, total.duplicates, total.withoutKeys)
			if !t.Failed() && seeds >= 10 && (total.duplicates == 0 || total.withoutKeys == 0) {
				t.Errorf("no resumed run saw a duplicate, or none lacked the keys: the seeds prove nothing about one of the two ways")
			}
		})
	}
}

// resumeOutcome counts what the runs of a sync saw: runs that resumed, of
// them those that reported a duplicate key, and those that counted as
// drifted for want of the keys.
type resumeOutcome struct {
	resumed, duplicates, withoutKeys int
}

func resumeRun(t *testing.T, st consStrategy, seed uint64) (out resumeOutcome) {
	p := resumeParamsFor(seed, st)
	t.Logf("params %+v", p)
	srv := mockapi.New(mockapi.Config{Records: p.records, Seed: seed, TieRate: p.tieRate, TieGroups: p.ties})
	mut := &mutator{srv: srv, every: p.every, updates: p.updates, inserts: p.inserts}
	fl := &failing{h: mut, mu: make(chan struct{}, 1), left: -1}
	hs := httptest.NewServer(fl)
	defer hs.Close()
	client := hs.Client()
	defer client.CloseIdleConnections()

	tb := &consTable{rows: make(map[string]mockapi.User)}
	mem := new(paginate.MemoryStore)
	var store paginate.Store = mem
	if !p.storeKeepsKeys {
		store = plainStore{mem}
	}
	if p.fromMark {
		fromMark(t, srv, tb, store)
	}
	base := paginate.Options[mockapi.User]{
		Stream:    "users",
		Store:     store,
		Key:       confKey,
		HighWater: confStamp,
		Checks: paginate.Checks[mockapi.User]{
			Order:     consOrder,
			TrackKeys: true,
		},
		Concurrency: st.conc,
		Retry:       fast,
	}
	if p.defaults {
		base.Key, base.Checks.Order, base.Checks.TrackKeys = nil, nil, false
	}
	drifted := false // the sync in progress reported drift
	// run runs the sync once, stopped as stop says after pages pages, or
	// to its end when pages is 0.
	run := func(n int, mutating bool, stop resumeStop, pages int) (paginate.Result, error) {
		t.Helper()
		opts := base
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		if pages > 0 {
			switch stop {
			case stopByError:
				fl.arm(pages)
			case stopByCancel:
				opts.Observe = func(e paginate.Event) {
					if e.Kind == paginate.EventPageCommitted && e.Pages >= pages {
						cancel()
					}
				}
			case stopByMaxPages:
				opts.Limits.MaxPages = pages
			}
		}
		mut.set(mutating)
		tb.delivered = nil
		var sink paginate.Sink[mockapi.User] = tb
		if p.defaults {
			sink = keyedTable{tb}
		}
		res, err := paginate.Run(ctx, st.new(p.size)(hs.URL, client), sink, opts)
		if len(res.Warnings) > 0 {
			t.Errorf("run %d warns: %q", n, res.Warnings)
		}
		mut.set(false)
		fl.arm(-1)
		switch {
		case pages == 0 && err != nil:
			t.Fatalf("run %d: %v", n, err)
		case pages > 0 && stop == stopByCancel && err != nil && !errors.Is(err, context.Canceled):
			t.Fatalf("run %d, stopped by %v: %v", n, stop, err)
		}
		how := "to the end"
		if pages > 0 {
			how = fmt.Sprintf("stopped by %v after %d pages", stop, pages)
		}
		t.Logf("run %d (%s): %d pages, %d items, stop %v, resumed %v, drift %d %v, checkpoint %v, err %v",
			n, how, res.Pages, res.Items, res.Stop, res.Resumed, res.DriftCount, firstDrifts(res.Drifts), res.Checkpoint.Position, err)
		if res.Resumed && !p.storeKeepsKeys && !drifted && !slices.ContainsFunc(res.Drifts, func(d paginate.Drift) bool { return d.Kind == paginate.DriftResume }) {
			t.Errorf("run %d resumed a sync without its keys and reported no DriftResume: %v", n, res.Drifts)
		}
		drifted = (drifted || res.DriftCount > 0) && !res.Checkpoint.Position.IsStart()
		if res.Resumed {
			out.resumed++
			if slices.ContainsFunc(res.Drifts, func(d paginate.Drift) bool { return d.Kind == paginate.DriftDuplicate }) {
				out.duplicates++
			}
			if slices.ContainsFunc(res.Drifts, func(d paginate.Drift) bool { return d.Kind == paginate.DriftResume }) {
				out.withoutKeys++
			}
		}
		return res, err
	}

	done := false
	for i, stop := range p.stops {
		res, _ := run(i+1, true, stop, p.pages[i])
		if res.Checkpoint.Position.IsStart() && res.Stop.Complete() {
			done = true // the sync ended before the stop
			break
		}
		srv.Update(p.between[i][0])
		srv.Insert(p.between[i][1])
	}
	if !done {
		res, _ := run(len(p.stops)+1, true, 0, 0)
		checkComplete(t, "the resumed sync", srv.Records(), tb, res.Checkpoint.Position.Since)
	}
	res, _ := run(len(p.stops)+2, false, 0, 0)
	if !res.Stop.Complete() {
		t.Fatalf("the quiet sync stopped with %v", res.Stop)
	}
	checkEqual(t, "the quiet sync", srv.Records(), tb)
	return out
}

// TestResumeCases are the two configurations issue 20 saw lose records
// for good, with every run returning nil and a complete stop: the
// flagship's settings stopped after 10 pages of 1,000 records, 10 records
// updated, the sync resumed, then a sync on a quiet source; and an offset
// sync stopped by an error after page 5 while the source changed, then
// five more runs, with TrackKeys or with Options.Key alone. Each must end
// with the table equal to the source, in every one of 10 datasets.
func TestResumeCases(t *testing.T) {
	byUpdated := func(a, b mockapi.User) int { return a.UpdatedAt.Compare(b.UpdatedAt) }
	type run struct {
		mutating bool
		// maxPages or failAfter stop the run after that many pages or
		// requests; update records are updated after it.
		maxPages, failAfter, update int
	}
	quiet := run{}
	tests := []struct {
		name    string
		new     confNew
		size    int
		records int
		opts    paginate.Options[mockapi.User]
		runs    []run
	}{
		{
			name: "page number, the flagship's settings", new: confPageNumber(50), size: 50, records: 1000,
			opts: paginate.Options[mockapi.User]{Key: confKey, Checks: paginate.Checks[mockapi.User]{TrackKeys: true, Order: byUpdated}, HighWater: confStamp},
			runs: []run{{maxPages: 10, update: 10}, quiet, quiet},
		},
		{
			name: "offset with TrackKeys", new: confOffset(10), size: 10, records: 120,
			opts: paginate.Options[mockapi.User]{Key: confKey, Checks: paginate.Checks[mockapi.User]{TrackKeys: true}, HighWater: confStamp},
			runs: []run{{mutating: true, failAfter: 5}, {mutating: true}, quiet, quiet, quiet, quiet},
		},
		{
			name: "offset with Key alone", new: confOffset(10), size: 10, records: 120,
			opts: paginate.Options[mockapi.User]{Key: confKey, HighWater: confStamp},
			runs: []run{{mutating: true, failAfter: 5}, {mutating: true}, quiet, quiet, quiet, quiet},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 10; seed++ {
				srv := mockapi.New(mockapi.Config{Records: tt.records, Seed: seed})
				mut := &mutator{srv: srv, every: 2, updates: 1, inserts: 1}
				fl := &failing{h: mut, mu: make(chan struct{}, 1), left: -1}
				hs := httptest.NewServer(fl)
				tb := &consTable{rows: make(map[string]mockapi.User)}
				opts := tt.opts
				opts.Store, opts.Retry, opts.Stream = new(paginate.MemoryStore), fast, "users"
				for i, r := range tt.runs {
					o := opts
					o.Limits.MaxPages = r.maxPages
					if r.failAfter > 0 {
						fl.arm(r.failAfter)
					}
					mut.set(r.mutating)
					res, err := paginate.Run(t.Context(), tt.new(hs.URL, hs.Client()), paginate.Sink[mockapi.User](tb), o)
					mut.set(false)
					fl.arm(-1)
					if err != nil && r.failAfter == 0 {
						t.Fatalf("seed %d, run %d: %v", seed, i+1, err)
					}
					srv.Update(r.update)
					t.Logf("seed %d, run %d: %d items, stop %v, resumed %v, drift %d", seed, i+1, res.Items, res.Stop, res.Resumed, res.DriftCount)
				}
				hs.Close()
				if missed := lostRecords(srv.Records(), tb, "9999"); len(missed) > 0 {
					t.Errorf("seed %d: %d of %d records lost for good: %+v", seed, len(missed), srv.Len(), missed)
				}
			}
		})
	}
}
