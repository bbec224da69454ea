package paginate_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pagekit/pagekit/paginate"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ignoreLastPage leaves out the page fingerprints, which are hashes.
var ignoreLastPage = cmpopts.IgnoreFields(paginate.Checkpoint{}, "LastPage")

// fast retries, so tests that fail a few attempts do not wait.
var fast = paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }}

func TestRun(t *testing.T) {
	p := func(n int64) paginate.Position { return paginate.Position{Page: n} }
	errFlaky := errors.New("flaky")
	errGone := errors.New("gone")
	type want struct {
		items     []string
		stop      paginate.StopReason
		pages     int
		retries   int
		resumed   bool
		cp        paginate.Checkpoint
		requested []paginate.Position
		errIs     error
		errText   string
	}
	tests := []struct {
		name  string
		steps map[paginate.Position]*step
		edit  func(map[paginate.Position]*step)
		saved *paginate.Checkpoint
		opts  paginate.Options[string]
		want  want
	}{
		{
			name:  "three pages",
			steps: linear(3, 2),
			want: want{
				items: itemsOf(linear(3, 2), 1, 2, 3), stop: paginate.StopLastPage, pages: 3,
				cp:        paginate.Checkpoint{Stream: "default"},
				requested: []paginate.Position{{}, p(2), p(3)},
			},
		},
		{
			name:  "empty first page",
			steps: map[paginate.Position]*step{{}: {stop: paginate.StopEmptyPage}},
			want: want{
				stop: paginate.StopEmptyPage, pages: 1, cp: paginate.Checkpoint{Stream: "default"},
				requested: []paginate.Position{{}},
			},
		},
		{
			name:  "error on page 2 then success on retry",
			steps: linear(3, 1),
			edit:  func(s map[paginate.Position]*step) { s[p(2)].errs = []error{errFlaky, errFlaky} },
			want: want{
				items: itemsOf(linear(3, 1), 1, 2, 3), stop: paginate.StopLastPage, pages: 3, retries: 2,
				cp:        paginate.Checkpoint{Stream: "default"},
				requested: []paginate.Position{{}, p(2), p(2), p(2), p(3)},
			},
		},
		{
			name:  "permanent error on page 3 keeps the checkpoint at page 3",
			steps: linear(4, 1),
			edit:  func(s map[paginate.Position]*step) { s[p(3)].errs = []error{paginate.Permanent(errGone)} },
			want: want{
				items: itemsOf(linear(4, 1), 1, 2), stop: paginate.StopError, pages: 2,
				cp:        paginate.Checkpoint{Stream: "default", Position: p(3), Items: 2},
				requested: []paginate.Position{{}, p(2), p(3)},
				errIs:     errGone, errText: "fetch page 3: gone",
			},
		},
		{
			name:  "retries exhausted",
			steps: linear(2, 1),
			edit: func(s map[paginate.Position]*step) {
				s[p(2)].errs = []error{errFlaky, errFlaky, errFlaky}
			},
			opts: paginate.Options[string]{Retry: paginate.Retry{MaxAttempts: 3, BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }}},
			want: want{
				items: itemsOf(linear(2, 1), 1), stop: paginate.StopError, pages: 1, retries: 2,
				cp:        paginate.Checkpoint{Stream: "default", Position: p(2), Items: 1},
				requested: []paginate.Position{{}, p(2), p(2), p(2)},
				errIs:     paginate.ErrRetriesExhausted, errText: "fetch page 2 (3 attempts): retries exhausted: flaky",
			},
		},
		{
			name:  "resume from a saved checkpoint fetches only the rest",
			steps: linear(4, 2),
			saved: &paginate.Checkpoint{Stream: "default", Position: p(3), HighWater: "p2-1"},
			opts:  paginate.Options[string]{HighWater: func(s string) string { return s }},
			want: want{
				items: itemsOf(linear(4, 2), 3, 4), stop: paginate.StopLastPage, pages: 2, resumed: true,
				cp:        paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "p4-1"}, HighWater: "p4-1"},
				requested: []paginate.Position{p(3), p(4)},
			},
		},
		{
			name:  "incremental run passes the high-water mark as Since",
			steps: linear(2, 1),
			saved: &paginate.Checkpoint{Stream: "users", Position: paginate.Position{Since: "m1"}, HighWater: "m1"},
			opts:  paginate.Options[string]{Stream: "users", HighWater: func(string) string { return "m2" }},
			want: want{
				items: itemsOf(linear(2, 1), 1, 2), stop: paginate.StopLastPage, pages: 2,
				cp:        paginate.Checkpoint{Stream: "users", Position: paginate.Position{Since: "m2"}, HighWater: "m2"},
				requested: []paginate.Position{{Since: "m1"}, {Page: 2, Since: "m1"}},
			},
		},
		{
			name: "loop A -> B -> A",
			steps: map[paginate.Position]*step{
				{}:           {items: []string{"0"}, more: true, next: paginate.Position{Token: "A"}},
				{Token: "A"}: {items: []string{"a"}, more: true, next: paginate.Position{Token: "B"}},
				{Token: "B"}: {items: []string{"b"}, more: true, next: paginate.Position{Token: "A"}},
			},
			want: want{
				items: []string{"0", "a", "b"}, stop: paginate.StopLoopDetected, pages: 3,
				cp:        paginate.Checkpoint{Stream: "default", Position: paginate.Position{Token: "A"}, Items: 3},
				requested: []paginate.Position{{}, {Token: "A"}, {Token: "B"}},
				errIs:     paginate.ErrLoop, errText: `token A was already requested as page 2`,
			},
		},
		{
			name: "same page served for two positions",
			steps: map[paginate.Position]*step{
				{}:   {items: []string{"a", "b"}, more: true, next: p(2)},
				p(2): {items: []string{"c", "d"}, more: true, next: p(3)},
				p(3): {items: []string{"e", "f"}, more: true, next: p(4)},
				p(4): {items: []string{"c", "d"}, more: true, next: p(5)},
			},
			opts: paginate.Options[string]{Key: func(s string) string { return s }},
			want: want{
				items: []string{"a", "b", "c", "d", "e", "f"}, stop: paginate.StopLoopDetected, pages: 3,
				cp:        paginate.Checkpoint{Stream: "default", Position: p(4), Items: 6},
				requested: []paginate.Position{{}, p(2), p(3), p(4)},
				errIs:     paginate.ErrLoop, errText: "page 4 returned the same page as page 2",
			},
		},
		{
			name: "a repeat of the page before is a loop that saves the complete sync's checkpoint",
			steps: map[paginate.Position]*step{
				{}:   {items: []string{"a", "b"}, more: true, next: p(2)},
				p(2): {items: []string{"c", "d"}, more: true, next: p(3)},
				p(3): {items: []string{"c", "d"}, more: true, next: p(4)},
			},
			opts: paginate.Options[string]{Key: func(s string) string { return s }, HighWater: func(s string) string { return s }},
			want: want{
				items: []string{"a", "b", "c", "d"}, stop: paginate.StopLoopDetected, pages: 2,
				cp:        paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "d"}, HighWater: "d"},
				requested: []paginate.Position{{}, p(2), p(3)},
				errIs:     paginate.ErrLoop, errText: "page 3 returned the same page as page 2 (page 2 of this run); the server reported no total: if every record had arrived, the server answers past-the-end pages with its last page (set Options.Checks.RepeatedPageEnds)",
			},
		},
		{
			// Records updated and served again at the end: the same keys,
			// but at new high-water marks.
			name: "same keys at new marks are not a loop",
			steps: map[paginate.Position]*step{
				{}:   {items: []string{"a@1", "b@1"}, more: true, next: p(2)},
				p(2): {items: []string{"a@2", "b@2"}, more: true, next: p(3)},
				p(3): {items: []string{"a@3", "b@3"}},
			},
			opts: paginate.Options[string]{
				Key:       func(s string) string { k, _, _ := strings.Cut(s, "@"); return k },
				HighWater: func(s string) string { _, m, _ := strings.Cut(s, "@"); return m },
			},
			want: want{
				items: []string{"a@1", "b@1", "a@2", "b@2", "a@3", "b@3"}, stop: paginate.StopLastPage, pages: 3,
				cp:        paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "3"}, HighWater: "3"},
				requested: []paginate.Position{{}, p(2), p(3)},
			},
		},
		{
			// An API depth limit (strategies.Offset.MaxOffset): the data
			// past it was not read, so the next sync must not start from
			// a mark beyond it.
			name: "a paginator's own limit resets the position but keeps Since",
			steps: map[paginate.Position]*step{
				{}:   {items: []string{"m1"}, more: true, next: p(2)},
				p(2): {items: []string{"m2"}, stop: paginate.StopMaxItems},
			},
			saved: &paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "m0"}, HighWater: "m0"},
			opts:  paginate.Options[string]{HighWater: func(s string) string { return s }},
			want: want{
				items: []string{"m1", "m2"}, stop: paginate.StopDepthLimit, pages: 2,
				cp: paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "m0"}, HighWater: "m2"},
			},
		},
		{
			name:  "max pages",
			steps: linear(5, 1),
			opts:  paginate.Options[string]{Limits: paginate.Limits{MaxPages: 2}},
			want: want{
				items: itemsOf(linear(5, 1), 1, 2), stop: paginate.StopMaxPages, pages: 2,
				cp:        paginate.Checkpoint{Stream: "default", Position: p(3), Items: 2},
				requested: []paginate.Position{{}, p(2)},
			},
		},
		{
			name:  "max items stops after the page that reaches it",
			steps: linear(5, 3),
			opts:  paginate.Options[string]{Limits: paginate.Limits{MaxItems: 4}},
			want: want{
				items: itemsOf(linear(5, 3), 1, 2), stop: paginate.StopMaxItems, pages: 2,
				cp: paginate.Checkpoint{Stream: "default", Position: p(3), Items: 6},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.edit != nil {
				tt.edit(tt.steps)
			}
			s := newScript(tt.steps)
			sink := new(paginate.MemorySink[string])
			if tt.saved != nil {
				if err := sink.Save(context.Background(), *tt.saved); err != nil {
					t.Fatal(err)
				}
			}
			opts := tt.opts
			if reflect.ValueOf(opts.Retry).IsZero() {
				opts.Retry = fast
			}
			res, err := paginate.Run(context.Background(), s, sink, opts)
			if tt.want.errIs != nil {
				if !errors.Is(err, tt.want.errIs) {
					t.Fatalf("Run error = %v, want errors.Is %v", err, tt.want.errIs)
				}
				if !strings.Contains(err.Error(), tt.want.errText) {
					t.Errorf("Run error %q does not say %q", err, tt.want.errText)
				}
			} else if err != nil {
				t.Fatalf("Run: %v", err)
			}
			cp, _, _ := sink.Load(context.Background(), res.Stream)
			got := want{
				items: sink.Items(), stop: res.Stop, pages: res.Pages, retries: res.Retries, resumed: res.Resumed,
				cp: cp, requested: s.requested(), errIs: tt.want.errIs, errText: tt.want.errText,
			}
			if tt.want.requested == nil {
				got.requested = nil
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{}), cmp.Comparer(func(a, b error) bool { return a == b }), ignoreLastPage); diff != "" {
				t.Errorf("Run (-want +got):\n%s", diff)
			}
			if res.Checkpoint != cp {
				t.Errorf("Result.Checkpoint = %+v, saved %+v", res.Checkpoint, cp)
			}
			if int64(len(got.items)) != res.Items {
				t.Errorf("Result.Items = %d, sink holds %d", res.Items, len(got.items))
			}
		})
	}
}

func TestRunCancelMidRun(t *testing.T) {
	steps := linear(5, 2)
	s := newScript(steps)
	blockAt := paginate.Position{Page: 4}
	s.block = &blockAt
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := new(paginate.MemorySink[string])
	opts := paginate.Options[string]{Observe: func(e paginate.Event) {
		if e.Kind == paginate.EventPageCommitted && e.Pages == 3 {
			cancel()
		}
	}}
	res, err := paginate.Run(ctx, s, sink, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v, want context.Canceled", err)
	}
	cp, _, _ := sink.Load(context.Background(), "default")
	got := struct {
		Stop  paginate.StopReason
		Pages int
		CP    paginate.Checkpoint
		Items []string
	}{res.Stop, res.Pages, cp, sink.Items()}
	wantCP := paginate.Checkpoint{Stream: "default", Position: paginate.Position{Page: 4}, Items: 6}
	if diff := cmp.Diff(struct {
		Stop  paginate.StopReason
		Pages int
		CP    paginate.Checkpoint
		Items []string
	}{paginate.StopCancelled, 3, wantCP, itemsOf(steps, 1, 2, 3)}, got, ignoreLastPage); diff != "" {
		t.Errorf("cancelled run (-want +got):\n%s", diff)
	}
	// goleak.VerifyTestMain checks that the fetcher goroutine is gone.
}

func TestRunSinkErrorKeepsCheckpoint(t *testing.T) {
	steps := linear(3, 1)
	errDisk := errors.New("disk full")
	// The page fails alone or in a group: the runner then commits the
	// group's pages one at a time, and the pages before it are kept.
	sink := paginate.SinkFunc[string](func(ctx context.Context, items []string) error {
		if slices.Contains(items, "p2-0") {
			return errDisk
		}
		return nil
	})
	store := new(paginate.MemoryStore)
	res, err := paginate.Run(context.Background(), newScript(steps), sink, paginate.Options[string]{Store: store})
	if !errors.Is(err, errDisk) {
		t.Fatalf("Run error = %v, want %v", err, errDisk)
	}
	if !strings.Contains(err.Error(), "commit page 2") {
		t.Errorf("error %q does not name the page", err)
	}
	cp, _, _ := store.Load(context.Background(), "default")
	if diff := cmp.Diff(paginate.Checkpoint{Stream: "default", Position: paginate.Position{Page: 2}, Items: 1}, cp, ignoreLastPage); diff != "" {
		t.Errorf("checkpoint (-want +got):\n%s", diff)
	}
	if res.Stop != paginate.StopError || res.Pages != 1 {
		t.Errorf("Result = stop %v, pages %d; want error, 1", res.Stop, res.Pages)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := linear(2, 1)
		steps[paginate.Position{Page: 2}].errs = []error{retryAfterErr(7 * time.Second)}
		var delays []time.Duration
		opts := paginate.Options[string]{
			Retry: paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }},
			Observe: func(e paginate.Event) {
				if e.Kind == paginate.EventRetry {
					delays = append(delays, e.Delay)
				}
			},
		}
		start := time.Now()
		res, err := paginate.Run(t.Context(), newScript(steps), new(paginate.MemorySink[string]), opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]time.Duration{7 * time.Second}, delays); diff != "" {
			t.Errorf("retry delays (-want +got):\n%s", diff)
		}
		if el := time.Since(start); el != 7*time.Second {
			t.Errorf("run took %v of fake time, want exactly the 7s the server asked for", el)
		}
		if res.Retries != 1 {
			t.Errorf("Retries = %d, want 1", res.Retries)
		}
	})
}

func TestRetryAfterCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := linear(2, 1)
		steps[paginate.Position{Page: 2}].errs = []error{retryAfterErr(time.Hour)}
		start := time.Now()
		_, err := paginate.Run(t.Context(), newScript(steps), new(paginate.MemorySink[string]),
			paginate.Options[string]{Retry: paginate.Retry{MaxRetryAfter: 10 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el != 10*time.Second {
			t.Errorf("run took %v of fake time, want the 10s cap", el)
		}
	})
}

func TestCancelInterruptsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := linear(2, 1)
		steps[paginate.Position{Page: 2}].errs = []error{retryAfterErr(time.Minute)}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		res, err := paginate.Run(ctx, newScript(steps), new(paginate.MemorySink[string]), paginate.Options[string]{})
		if !errors.Is(err, context.DeadlineExceeded) || res.Stop != paginate.StopCancelled {
			t.Fatalf("Run = %v, %v; want deadline exceeded, cancelled", res.Stop, err)
		}
		if el := time.Since(start); el != 3*time.Second {
			t.Errorf("cancel took effect after %v, want at the 3s deadline", el)
		}
	})
}

func TestPipeliningOverlapsFetchAndWrite(t *testing.T) {
	const pages = 10
	for _, tt := range []struct {
		name     string
		prefetch int
		fetch    time.Duration
		write    time.Duration
		want     time.Duration
	}{
		// First fetch, then each write overlaps the next fetch: fetch + pages*max.
		{"fetch slower", 0, 300 * time.Millisecond, 100 * time.Millisecond, 300*time.Millisecond*pages + 100*time.Millisecond},
		{"write slower", 0, 100 * time.Millisecond, 300 * time.Millisecond, 100*time.Millisecond + 300*time.Millisecond*pages},
		{"equal", 0, 200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond * (pages + 1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				steps := linear(pages, 1)
				for _, st := range steps {
					st.delay = tt.fetch
				}
				sink := paginate.SinkFunc[string](func(ctx context.Context, items []string) error {
					time.Sleep(tt.write)
					return nil
				})
				start := time.Now()
				// One page a commit: this is the timing of the pipeline
				// alone (TestGroupCommit has the timing of groups).
				opts := paginate.Options[string]{Prefetch: tt.prefetch, Group: paginate.Group{Pages: 1}}
				if _, err := paginate.Run(t.Context(), newScript(steps), sink, opts); err != nil {
					t.Fatal(err)
				}
				if el := time.Since(start); el != tt.want {
					t.Errorf("%d pages took %v, want %v (sum would be %v)", pages, el, tt.want, (tt.fetch+tt.write)*pages)
				}
			})
		})
	}
}

func TestPagesBreakSavesCompletedPagesOnly(t *testing.T) {
	steps := linear(4, 2)
	store := new(paginate.MemoryStore)
	opts := paginate.Options[string]{Store: store}
	var got []string
	for page, err := range paginate.Pages(context.Background(), newScript(steps), opts) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.Items...)
		if len(got) == 4 {
			break // inside page 2: page 2 is not finished, so not checkpointed
		}
	}
	cp, _, _ := store.Load(context.Background(), "default")
	if diff := cmp.Diff(paginate.Position{Page: 2}, cp.Position); diff != "" {
		t.Errorf("checkpoint after break (-want +got):\n%s", diff)
	}
	// A second loop resumes from page 2 and delivers the rest.
	for it, err := range paginate.All(context.Background(), newScript(steps), opts) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it)
	}
	want := append(itemsOf(steps, 1, 2), itemsOf(steps, 2, 3, 4)...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
}

func TestAllYieldsErrorOnce(t *testing.T) {
	steps := linear(3, 1)
	steps[paginate.Position{Page: 2}].errs = []error{paginate.Permanent(errors.New("boom"))}
	var items []string
	var errs []error
	for it, err := range paginate.All(context.Background(), newScript(steps), paginate.Options[string]{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		items = append(items, it)
	}
	if diff := cmp.Diff([]string{"p1-0"}, items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "boom") {
		t.Errorf("errors = %v, want one that says boom", errs)
	}
}

// validating is a paginator that checks its configuration.
type validating struct {
	paginate.PaginatorFunc[string]
	err error
}

func (v validating) Validate() error { return v.err }

// Run validates a paginator that can validate itself before its first
// request, and stops with its error.
func TestRunValidates(t *testing.T) {
	bad := errors.New("no URL")
	fetched := 0
	p := validating{PaginatorFunc: func(context.Context, paginate.Position) (paginate.Page[string], error) {
		fetched++
		return paginate.Page[string]{Items: []string{"a"}}, nil
	}, err: bad}
	res, err := paginate.Run(context.Background(), p, paginate.SinkFunc[string](func(context.Context, []string) error { return nil }), paginate.Options[string]{})
	if !errors.Is(err, bad) || res.Stop != paginate.StopError || fetched != 0 {
		t.Errorf("Run: %v, stop %v, %d fetches; want the Validate error, StopError and no fetch", err, res.Stop, fetched)
	}
	p.err = nil
	if res, err := paginate.Run(context.Background(), p, paginate.SinkFunc[string](func(context.Context, []string) error { return nil }), paginate.Options[string]{}); err != nil || res.Items != 1 {
		t.Errorf("Run of a valid paginator: %v, %d items", err, res.Items)
	}
}
