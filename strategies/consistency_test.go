package strategies_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// This file checks what each strategy guarantees when the source changes
// while a sync pages through it (docs/consistency.md cites these tests).
//
// Every run is reproducible from its seed (but for the interleaving of
// parallel fetches, which the invariants must survive whatever it is),
// which picks the dataset (its
// size, its random ties and a tie group larger than a page), the page
// size, the mutation (every how many requests, how many records updated
// and inserted), and whether the sync starts from a high-water mark. The
// records are served in ascending (updatedAt, id) order; a mutation gives
// the records it touches an updatedAt later than all others, so they move
// to the end of that order, and everything after an updated record shifts
// one place to the left.
//
// Then, for each run:
//
//  1. sync 1 runs while the mock mutates every few requests;
//  2. sync 2, the incremental sync that follows, runs on a quiet source
//     (or, for one seed in three, on a source that keeps mutating, in which
//     case a quiet sync 3 follows);
//
// and the tests assert the invariant that makes incremental syncs
// complete: after every sync, each record of the source is in the table
// at its current version, or has an updatedAt at or after the Since the
// next sync starts from (so that the next sync fetches it). After the
// first quiet sync, the table equals the source.

// consOrder orders mock records as the API serves them.
func consOrder(a, b mockapi.User) int {
	return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
}

// consStrategy is a strategy under test, configured for the mock API.
type consStrategy struct {
	name string
	new  func(size int) confNew
	// conc is Options.Concurrency.
	conc int
	// stable says the strategy reads by keyset, after the last record's
	// (updatedAt, id), so that no change to the source can shift a record
	// past it: nothing is skipped, no drift is reported (Options.Checks.Order is
	// set), nothing is delivered twice at one version.
	stable bool
	// start returns the position in the (filtered) updatedAt order of the
	// first record a request asks for, for strategies that page by
	// position and fetch one page at a time; nil otherwise.
	start func(q url.Values, size int) int
	// tieTooLarge says the strategy pages by the inclusive updated_since
	// filter alone, so that more records at one updatedAt than a page holds
	// must end the sync with strategies.ErrTieTooLarge.
	tieTooLarge bool
	// boundary is how many records of each page a stable strategy reads
	// again (an inclusive cursor reads the records at its value again, up
	// to a mutation's worth); quiet says it ends only on a response with
	// nothing new. A keyset sync reads every change made ahead of it, so
	// it ends only if it reads faster than the source changes: its seeds
	// change fewer records per request than a page brings that are new.
	boundary int
	quiet    bool
	noTrack  bool
}

func confOffsetOverlap(k int) func(int) confNew {
	return func(size int) confNew {
		return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
			return &strategies.Offset[mockapi.User]{
				Request: strategies.Request{URL: base + mockapi.PathOffset, Client: c},
				Size:    size,
				Response: strategies.Shape[mockapi.User]{
					ItemsPath:      "data",
					TotalItemsPath: "total",
				},
				Window:     strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
				Overlap:    k,
				OverlapKey: func(u mockapi.User) string { return u.ID + "@" + confStamp(u) },
			}
		}
	}
}

func pageStart(param string) func(url.Values, int) int {
	return func(q url.Values, size int) int {
		n, err := strconv.Atoi(q.Get(param))
		if err != nil {
			n = 1
		}
		return (n - 1) * size
	}
}

func offsetStart(q url.Values, _ int) int {
	n, _ := strconv.Atoi(q.Get("offset"))
	return n
}

var consStrategies = []consStrategy{
	{name: "page-number", new: confPageNumber, conc: 1, start: pageStart("page")},
	{name: "page-number-parallel", new: confPageNumber, conc: 4},
	{name: "offset", new: confOffset, conc: 1, start: offsetStart},
	{name: "offset-parallel", new: confOffset, conc: 4},
	{name: "link-header", new: confLinkHeader, conc: 1, start: pageStart("page")},
	{name: "cursor-updated-since", new: confCursorSince, stable: true, tieTooLarge: true, boundary: 3, quiet: true},
	{name: "next-token", new: confNextToken, stable: true},
	{name: "offset-overlap-4", new: confOffsetOverlap(4), conc: 1, stable: true},
	{name: "offset-overlap-1", new: confOffsetOverlap(1), conc: 1, start: offsetStart, noTrack: true},
}

// consParams are the parameters a seed picks.
type consParams struct {
	records, size           int
	every, updates, inserts int
	tieRate                 float64
	ties                    []mockapi.TieGroup
	// fromMark starts sync 1 from a high-water mark a quarter into the
	// data, with the records before it already in the table, as if an
	// earlier sync had delivered them.
	fromMark bool
	// keepMutating makes sync 2 mutate too; a quiet sync 3 follows.
	keepMutating bool
}

// consParamsFor returns the parameters of a seed for a strategy.
func consParamsFor(seed uint64, st consStrategy) consParams {
	r := rand.New(rand.NewPCG(seed, 0x636f6e73))
	p := consParams{
		records:      60 + r.IntN(141),
		size:         5 + r.IntN(16),
		every:        1 + r.IntN(4),
		updates:      r.IntN(4),
		inserts:      r.IntN(4),
		tieRate:      0.05 + 0.3*r.Float64(),
		fromMark:     seed%2 == 1,
		keepMutating: seed%3 == 0,
	}
	if p.updates+p.inserts == 0 {
		p.updates = 1
	}
	// Three seeds in four have a tie larger than a page, somewhere in the
	// first half; one in four for a strategy that must fail on it, so
	// that the others test it on changing data.
	if seed%4 == 1 || !st.tieTooLarge && seed%4 != 0 {
		size := p.size + 1 + r.IntN(p.size)
		p.ties = []mockapi.TieGroup{{At: min(r.IntN(p.records/2), p.records-size), Size: size}}
	}
	if st.conc > 1 {
		// A page fetched in parallel can be served several requests after
		// the page before it; when the records moved behind it in between
		// fill a page, it is served the same records, which the runner's
		// same-page loop check takes for a loop (a fix is proposed: a page
		// served twice may be a shift, three times is a loop). Until then,
		// fewer records move in that time than a page holds.
		for p.updates*((2*st.conc+p.every-1)/p.every) >= p.size {
			p.every++
		}
	}
	if st.stable && !strings.HasPrefix(st.name, "offset-overlap") {
		if st.quiet {
			p.every = max(p.every, 2)
		}
		for p.every*(p.size-st.boundary) <= p.updates+p.inserts {
			p.every++
		}
	}
	return p
}

// mutation is one change a mutator made, and where the client was.
type mutation struct {
	request int
	// query is the query of the request it came before.
	query url.Values
	// before is the source in updatedAt order just before it.
	before []mockapi.User
	// changed are the records it updated or inserted, as they are now.
	changed []mockapi.User
}

// mutator is the mock API with its mutations driven from outside, so that
// the test can stop them between syncs and knows what changed when. It
// mutates as mockapi.Config.Mutate does, with Server.Update and
// Server.Insert, before every Every-th request; requests are served one at
// a time, so that a mutation happens between two responses.
type mutator struct {
	srv                     *mockapi.Server
	every, updates, inserts int

	mu       sync.Mutex
	on       bool
	requests int
	log      []mutation
}

func (m *mutator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests++
	if m.on && m.requests%m.every == 0 {
		ev := mutation{request: m.requests, query: r.URL.Query(), before: m.srv.Records()}
		ev.changed = append(m.srv.Update(m.updates), m.srv.Insert(m.inserts)...)
		m.log = append(m.log, ev)
	}
	m.srv.ServeHTTP(w, r)
}

func (m *mutator) set(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.on = on
	m.log = nil
}

func (m *mutator) mutations() []mutation {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

// consTable is a keyed sink, as a table with a primary key is; it also
// keeps every record delivered in the current sync.
type consTable struct {
	rows      map[string]mockapi.User
	delivered []mockapi.User
}

func (tb *consTable) Write(_ context.Context, items []mockapi.User) error {
	for _, u := range items {
		tb.rows[u.ID] = u
	}
	tb.delivered = append(tb.delivered, items...)
	return nil
}

// consOutcome is what one run saw, for the counts over all seeds.
type consOutcome struct {
	skipped  bool // sync 1 skipped a record that existed when it started
	drifted  bool // sync 1 reported drift
	tieError bool // a sync ended with ErrTieTooLarge, as it must
}

// consSeeds is the number of seeds per strategy; PAGEKIT_CONSISTENCY_SEEDS
// sets another, for a longer search.
func consSeeds(t *testing.T) uint64 {
	if v := os.Getenv("PAGEKIT_CONSISTENCY_SEEDS"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			t.Fatalf("PAGEKIT_CONSISTENCY_SEEDS=%q: want a positive number", v)
		}
		return n
	}
	return 40
}

func TestConsistency(t *testing.T) {
	seeds := consSeeds(t)
	for _, st := range consStrategies {
		t.Run(st.name, func(t *testing.T) {
			var skipped, drifted, tieErrors int
			for seed := uint64(1); seed <= seeds; seed++ {
				t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
					o := consistencyRun(t, st, seed)
					skipped += b2i(o.skipped)
					drifted += b2i(o.drifted)
					tieErrors += b2i(o.tieError)
				})
			}
			t.Logf("%d seeds: sync 1 skipped records in %d, reported drift in %d; %d ended with ErrTieTooLarge", seeds, skipped, drifted, tieErrors)
			if t.Failed() {
				return
			}
			switch {
			case st.stable && drifted > 0:
				t.Errorf("a keyset strategy reported drift in %d runs; it pages after the last record, so none can show", drifted)
			case !st.stable && skipped == 0:
				t.Errorf("no run of %d skipped a record: the mutations never shifted a page, so the test proves nothing about drift", seeds)
			case st.tieTooLarge && tieErrors == 0 && seeds >= 4:
				t.Errorf("no run of %d met a tie larger than a page", seeds)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func consistencyRun(t *testing.T, st consStrategy, seed uint64) (out consOutcome) {
	p := consParamsFor(seed, st)
	t.Logf("params %+v", p)
	srv := mockapi.New(mockapi.Config{Records: p.records, Seed: seed, TieRate: p.tieRate, TieGroups: p.ties})
	mut := &mutator{srv: srv, every: p.every, updates: p.updates, inserts: p.inserts}
	hs := httptest.NewServer(mut)
	defer hs.Close()
	client := hs.Client()
	defer client.CloseIdleConnections()

	tb := &consTable{rows: make(map[string]mockapi.User)}
	store := new(paginate.MemoryStore)
	var mark string // S0: the Since sync 1 starts from
	if p.fromMark {
		mark = fromMark(t, srv, tb, store)
	}
	opts := paginate.Options[mockapi.User]{
		Stream:    "users",
		Store:     store,
		Key:       confKey,
		HighWater: confStamp,
		Checks: paginate.Checks[mockapi.User]{
			Order:     consOrder,
			TrackKeys: !st.stable && !st.noTrack,
		},
		Concurrency: st.conc,
		Retry:       fast,
	}
	run := func(n int, mutating bool) (paginate.Result, []mutation, error) {
		t.Helper()
		mut.set(mutating)
		tb.delivered = nil
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		res, err := paginate.Run(ctx, st.new(p.size)(hs.URL, client), paginate.Sink[mockapi.User](tb), opts)
		muts := mut.mutations()
		mut.set(false)
		if err != nil && !(st.tieTooLarge && errors.Is(err, strategies.ErrTieTooLarge)) {
			t.Fatalf("sync %d: %v", n, err)
		}
		return res, muts, err
	}

	// Sync 1, while the source changes.
	initial := inScope(srv.Records(), mark)
	res1, muts1, err := run(1, true)
	if err != nil {
		// The cursor cannot page past a tie larger than its page: it
		// must say so, never skip the tie.
		t.Logf("sync 1: %v", err)
		out.tieError = true
		if tie := largestTie(initial); tie < p.size {
			t.Errorf("sync 1 failed with ErrTieTooLarge, but the largest tie held %d records and a page %d", tie, p.size)
		}
		return out
	}
	out.drifted = res1.DriftCount > 0
	skipped := notDelivered(initial, tb.delivered)
	out.skipped = len(skipped) > 0
	t.Logf("sync 1: %d pages, %d items, %d mutations, drift %d %v, skipped %d, next since %q",
		res1.Pages, res1.Items, len(muts1), res1.DriftCount, firstDrifts(res1.Drifts), len(skipped), res1.Checkpoint.Position.Since)
	checkComplete(t, "sync 1", srv.Records(), tb, res1.Checkpoint.Position.Since)

	if st.stable {
		if len(skipped) > 0 {
			t.Errorf("a keyset sync skipped records that existed when it started:\n%s", gocmp.Diff(nil, consIDs(skipped)))
		}
		if res1.DriftCount > 0 {
			t.Errorf("a keyset sync reported drift: %v", res1.Drifts)
		}
		if twice := deliveredTwice(tb.delivered); len(twice) > 0 {
			t.Errorf("records delivered twice at one version in one sync: %q", twice)
		}
	} else {
		if len(skipped) > 0 && res1.DriftCount == 0 {
			t.Errorf("sync 1 skipped %d records that existed when it started, and reported no drift: %q", len(skipped), consIDs(skipped))
		}
		if st.start != nil {
			if m, ok := shiftedBehind(muts1, mark, p.size, st.start); ok && res1.DriftCount == 0 {
				t.Errorf("request %d (%v) came after a record behind the client's position moved ahead of it (%s), and no drift was reported",
					m.request, m.query.Encode(), m.changed[0].ID)
			}
		}
	}
	if res1.DriftCount > 0 {
		// The next sync must read again from where this one started.
		if got := res1.Checkpoint.Position.Since; got != mark {
			t.Errorf("after a drifted sync, the next starts from %q; want the old Since %q", got, mark)
		}
	}

	// Sync 2, the incremental sync that follows.
	res2, _, err := run(2, p.keepMutating)
	if err != nil {
		t.Logf("sync 2: %v", err)
		out.tieError = true
		return out
	}
	t.Logf("sync 2: %d pages, %d items, drift %d", res2.Pages, res2.Items, res2.DriftCount)
	if !p.keepMutating {
		if missed := notDelivered(skipped, tb.delivered); len(missed) > 0 {
			t.Errorf("sync 2 did not recover %d records sync 1 skipped: %q", len(missed), consIDs(missed))
		}
		if res2.DriftCount > 0 {
			t.Errorf("sync 2 reported drift on a source that did not change: %v", res2.Drifts)
		}
		checkEqual(t, "sync 2", srv.Records(), tb)
		return out
	}
	checkComplete(t, "sync 2", srv.Records(), tb, res2.Checkpoint.Position.Since)
	if _, _, err := run(3, false); err != nil {
		t.Logf("sync 3: %v", err)
		out.tieError = true
		return out
	}
	checkEqual(t, "sync 3", srv.Records(), tb)
	return out
}

// fromMark starts the stream "users" in store from a high-water mark a
// quarter into the source, with the records before it in the table, as if
// an earlier sync had delivered them, and returns the mark.
func fromMark(t *testing.T, srv *mockapi.Server, tb *consTable, store paginate.Store) string {
	recs := srv.Records()
	mark := confStamp(recs[len(recs)/4])
	for _, u := range recs {
		if confStamp(u) < mark {
			tb.rows[u.ID] = u
		}
	}
	if err := store.Save(t.Context(), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Since: mark}, HighWater: mark}); err != nil {
		t.Fatal(err)
	}
	return mark
}

// inScope returns the records of src at or after the mark.
func inScope(src []mockapi.User, mark string) []mockapi.User {
	return slices.DeleteFunc(slices.Clone(src), func(u mockapi.User) bool { return confStamp(u) < mark })
}

// lost is a record the next sync would miss: its updatedAt in the source,
// and in the table ("" when the table lacks it).
type lost struct {
	ID, Source, Table string
}

// lostRecords returns the records of src that are neither in the table at
// their current version nor at or after since, where the next sync starts.
func lostRecords(src []mockapi.User, tb *consTable, since string) []lost {
	var missed []lost
	for _, u := range src {
		row, ok := tb.rows[u.ID]
		if ok && gocmp.Equal(row, u) || confStamp(u) >= since {
			continue
		}
		l := lost{ID: u.ID, Source: confStamp(u)}
		if ok {
			l.Table = confStamp(row)
		}
		missed = append(missed, l)
	}
	return missed
}

// checkComplete asserts the invariant that makes incremental syncs
// complete: each record of the source is in the table at its current
// version, or will be fetched by the next sync, from since.
func checkComplete(t *testing.T, sync string, src []mockapi.User, tb *consTable, since string) {
	t.Helper()
	if missed := lostRecords(src, tb, since); len(missed) > 0 {
		t.Errorf("after %s, %d records are neither in the table at their current version nor at or after the next sync's since %q (the next sync would miss them):\n%s",
			sync, len(missed), since, gocmp.Diff(nil, missed))
	}
}

// checkEqual asserts that the table holds exactly the source's records.
func checkEqual(t *testing.T, sync string, src []mockapi.User, tb *consTable) {
	t.Helper()
	want := make(map[string]mockapi.User, len(src))
	for _, u := range src {
		want[u.ID] = u
	}
	if diff := gocmp.Diff(want, tb.rows); diff != "" {
		t.Errorf("after %s, the table differs from the source (-source +table):\n%s", sync, diff)
	}
}

// notDelivered returns the records of want whose key was not delivered,
// at any version.
func notDelivered(want, delivered []mockapi.User) []mockapi.User {
	got := make(map[string]bool, len(delivered))
	for _, u := range delivered {
		got[u.ID] = true
	}
	return slices.DeleteFunc(slices.Clone(want), func(u mockapi.User) bool { return got[u.ID] })
}

// deliveredTwice returns the keys delivered more than once at one version.
func deliveredTwice(delivered []mockapi.User) []string {
	seen := make(map[string]bool, len(delivered))
	var twice []string
	for _, u := range delivered {
		k := u.ID + "@" + confStamp(u)
		if seen[k] {
			twice = append(twice, k)
		}
		seen[k] = true
	}
	return twice
}

func consIDs(us []mockapi.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func firstDrifts(ds []paginate.Drift) []paginate.Drift {
	return ds[:min(len(ds), 3)]
}

// largestTie returns the size of the largest group of records that share
// an updatedAt.
func largestTie(us []mockapi.User) int {
	count := make(map[time.Time]int)
	for _, u := range us {
		count[u.UpdatedAt]++
	}
	return slices.Max(append(slices.Collect(maps.Values(count)), 0))
}

// shiftedBehind returns the first mutation that updated a record behind the
// client's position (before the first record the request asks for) and
// moved it ahead of that position, where the client reads it again.
func shiftedBehind(muts []mutation, mark string, size int, start func(url.Values, int) int) (mutation, bool) {
	for _, m := range muts {
		before := inScope(m.before, mark)
		pos := start(m.query, size)
		at := make(map[string]int, len(before))
		for i, u := range before {
			at[u.ID] = i
		}
		// After the mutation, the records it did not change keep their
		// order, and the changed ones follow them.
		changed := make(map[string]bool, len(m.changed))
		for _, u := range m.changed {
			changed[u.ID] = true
		}
		kept := 0
		for _, u := range before {
			if !changed[u.ID] {
				kept++
			}
		}
		for j, u := range m.changed {
			if i, ok := at[u.ID]; ok && i < pos && kept+j >= pos {
				return mutation{request: m.request, query: m.query, changed: []mockapi.User{u}}, true
			}
		}
	}
	return mutation{}, false
}

// TestConsistencyNeedsDriftDetection shows why page-number and offset syncs
// need drift detection, and that paginate.Run turns it on by itself when it
// knows a key. Without a key, a sync that skips a record shifted past a
// page boundary advances the high-water mark past it, so that no later
// incremental sync fetches it, even on a quiet source; the run says so in
// its warnings. With Options.Key alone, the runner tracks the keys (the
// strategies describe themselves as reading by position), and the quiet
// sync leaves the table equal to the source.
func TestConsistencyNeedsDriftDetection(t *testing.T) {
	for _, st := range consStrategies[:3] { // page-number, in parallel, offset
		t.Run(st.name, func(t *testing.T) {
			lostForGood := 0
			for seed := uint64(1); seed <= 10; seed++ {
				for _, key := range []func(mockapi.User) string{nil, confKey} {
					if lostWithout(t, st, seed, key) {
						lostForGood++
					}
				}
			}
			if lostForGood == 0 {
				t.Errorf("no seed of 10 lost a record without a key; the mutations never shifted a page past the high-water mark")
			}
		})
	}
}

// lostWithout runs a sync of st while the source changes, then one on a
// quiet source, with no drift detection set but key, and reports whether
// records were lost for good; with a key, that fails the test.
func lostWithout(t *testing.T, st consStrategy, seed uint64, key func(mockapi.User) string) bool {
	p := consParamsFor(seed, st)
	srv := mockapi.New(mockapi.Config{Records: p.records, Seed: seed, TieRate: p.tieRate, TieGroups: p.ties})
	mut := &mutator{srv: srv, every: p.every, updates: p.updates, inserts: p.inserts}
	hs := httptest.NewServer(mut)
	defer hs.Close()
	tb := &consTable{rows: make(map[string]mockapi.User)}
	opts := paginate.Options[mockapi.User]{
		Store: new(paginate.MemoryStore), Key: key, HighWater: confStamp,
		Concurrency: st.conc, Retry: fast,
	}
	for i, mutating := range []bool{true, false} {
		mut.set(mutating)
		res, err := paginate.Run(t.Context(), st.new(p.size)(hs.URL, hs.Client()), paginate.Sink[mockapi.User](tb), opts)
		if err != nil {
			t.Fatalf("seed %d, sync %d: %v", seed, i+1, err)
		}
		switch {
		case key == nil && res.DriftCount > 0:
			t.Fatalf("seed %d, sync %d reported drift without a key: %v", seed, i+1, res.Drifts)
		case key == nil && !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.Contains(w, "no key is known") }):
			t.Errorf("seed %d, sync %d by position without a key does not warn that it cannot be protected: %q", seed, i+1, res.Warnings)
		case key != nil && len(res.Warnings) > 0:
			t.Errorf("seed %d, sync %d with a key warns: %q", seed, i+1, res.Warnings)
		}
	}
	// After the quiet sync, nothing is left for a later one to fetch:
	// whatever the table lacks now is lost.
	missed := lostRecords(srv.Records(), tb, "9999")
	switch {
	case len(missed) > 0 && key != nil:
		t.Errorf("seed %d: with Options.Key alone, %d records lost for good, such as %+v", seed, len(missed), missed[0])
	case len(missed) > 0:
		t.Logf("seed %d: without a key, %d records lost for good, such as %+v", seed, len(missed), missed[0])
	}
	return len(missed) > 0 && key == nil
}
