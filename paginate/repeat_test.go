package paginate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// clamped is a page-number API without totals that answers a page past
// the end with its last page, as json-server 1.x does. Records are
// "<id>@<mark>"; a Since filters to records whose mark is greater.
type clamped struct {
	mu      sync.Mutex
	records []string
	size    int
}

func (c *clamped) add(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		i := len(c.records) + 1
		c.records = append(c.records, fmt.Sprintf("r%04d@m%04d", i, i))
	}
}

func (c *clamped) Fetch(_ context.Context, pos paginate.Position) (paginate.Page[string], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var match []string
	for _, r := range c.records {
		if mark(r) > pos.Since {
			match = append(match, r)
		}
	}
	page := max(pos.Page, 1)
	last := max((len(match)+c.size-1)/c.size, 1)
	from := (min(page, int64(last)) - 1) * int64(c.size)
	items := match[from:min(from+int64(c.size), int64(len(match)))]
	if len(items) == 0 {
		return paginate.Page[string]{Stop: paginate.StopEmptyPage}, nil
	}
	return paginate.Page[string]{Items: items, More: true, Next: paginate.Position{Page: page + 1}}, nil
}

func mark(r string) string { return r[strings.IndexByte(r, '@')+1:] }

// countSink counts every delivery of every record.
type countSink struct {
	paginate.MemorySink[string]
	seen map[string]int
}

func (s *countSink) Commit(ctx context.Context, items []string, cp paginate.Checkpoint) error {
	if s.seen == nil {
		s.seen = make(map[string]int)
	}
	for _, it := range items {
		s.seen[it]++
	}
	return s.MemorySink.Commit(ctx, items, cp)
}

func (s *countSink) check(t *testing.T, source []string) {
	t.Helper()
	var dups []string
	got := make(map[string]bool)
	for r, n := range s.seen {
		got[r] = true
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s x%d", r, n))
		}
	}
	want := make(map[string]bool)
	for _, r := range source {
		want[r] = true
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("destination differs from the source (-want +got):\n%s", diff)
	}
	if len(dups) > 0 {
		t.Errorf("delivered more than once: %v", dups)
	}
}

// A server that repeats its last page for every page past the end: without
// RepeatedPageEnds every run fails with ErrLoop, with it every run
// completes. Either way, five later runs with the source growing in between
// (on the last page and past it) deliver every record exactly once.
func TestRepeatedLastPage(t *testing.T) {
	ctx := context.Background()
	for _, ends := range []bool{false, true} {
		for _, withKey := range []bool{false, true} {
			t.Run(fmt.Sprintf("ends=%v/key=%v", ends, withKey), func(t *testing.T) {
				api := &clamped{size: 5}
				api.add(23)
				sink := new(countSink)
				opts := paginate.Options[string]{Stream: "s", Checks: paginate.Checks[string]{RepeatedPageEnds: ends}, Retry: fast, HighWater: mark}
				if withKey {
					opts.Key = func(r string) string { return r[:strings.IndexByte(r, '@')] }
				}
				for run := range 6 {
					if run > 0 {
						api.add(7) // grows the last page and adds pages
					}
					res, err := paginate.Run(ctx, api, sink, opts)
					if ends {
						if err != nil || res.Stop != paginate.StopRepeatedPage || !res.Stop.Complete() {
							t.Fatalf("run %d: stop %v, err %v; want a complete sync ended by the repeated page", run, res.Stop, err)
						}
						if res.Checkpoint.LastPage != 0 || !res.Checkpoint.Position.IsStart() || res.Checkpoint.Position.Since != res.Checkpoint.HighWater {
							t.Errorf("run %d: checkpoint %+v, want the start at the new mark", run, res.Checkpoint)
						}
					} else {
						var le *paginate.LoopError
						if !errors.As(err, &le) || !le.Previous || res.Stop != paginate.StopLoopDetected {
							t.Fatalf("run %d: stop %v, err %v; want ErrLoop on the repeated last page", run, res.Stop, err)
						}
						if !strings.Contains(err.Error(), "RepeatedPageEnds") {
							t.Errorf("run %d: error %q does not point at RepeatedPageEnds", run, err)
						}
					}
				}
				sink.check(t, api.records)
			})
		}
	}
}

// A run that stopped right after the last page (here at MaxPages) saved
// that page's fingerprint: the next run, served it again at the next
// position, recognises it at once and commits nothing twice.
func TestRepeatedPageAfterResume(t *testing.T) {
	ctx := context.Background()
	for _, ends := range []bool{false, true} {
		t.Run(fmt.Sprintf("ends=%v", ends), func(t *testing.T) {
			api := &clamped{size: 5}
			api.add(10)
			sink := new(countSink)
			opts := paginate.Options[string]{Stream: "s", Retry: fast, HighWater: mark, Limits: paginate.Limits{MaxPages: 2}}
			if res, err := paginate.Run(ctx, api, sink, opts); err != nil || res.Stop != paginate.StopMaxPages {
				t.Fatalf("first run: stop %v, err %v; want max pages", res.Stop, err)
			}
			cp, _, _ := sink.Load(ctx, "s")
			if cp.LastPage == 0 || cp.Position != (paginate.Position{Page: 3}) {
				t.Fatalf("checkpoint after max pages: %+v, want page 3 with the last page's fingerprint", cp)
			}
			opts.Limits.MaxPages, opts.Checks.RepeatedPageEnds = 0, ends
			res, err := paginate.Run(ctx, api, sink, opts)
			wantStop := paginate.StopLoopDetected
			if ends {
				wantStop = paginate.StopRepeatedPage
			}
			if (err == nil) != ends || res.Stop != wantStop || res.Pages != 0 || !res.Resumed {
				t.Fatalf("second run: stop %v, %d pages, resumed %v, err %v; want a resumed run ended by the repeat (%v), no page",
					res.Stop, res.Pages, res.Resumed, err, wantStop)
			}
			if want := (paginate.Position{Since: "m0010"}); res.Checkpoint.Position != want || res.Checkpoint.LastPage != 0 {
				t.Errorf("checkpoint %+v, want position %v and no fingerprint", res.Checkpoint, want)
			}
			sink.check(t, api.records)
		})
	}
}

// Without a key, a page served for two positions is still a loop: the
// runner fingerprints the items' JSON encoding.
func TestLoopWithoutKey(t *testing.T) {
	steps := linear(4, 2)
	steps[paginate.Position{Page: 4}].items = steps[paginate.Position{Page: 2}].items
	steps[paginate.Position{Page: 4}].more = true
	steps[paginate.Position{Page: 4}].next = paginate.Position{Page: 5}
	_, err := paginate.Run(context.Background(), newScript(steps), new(paginate.MemorySink[string]),
		paginate.Options[string]{Retry: fast})
	var le *paginate.LoopError
	if !errors.As(err, &le) || !le.SamePage || le.Previous || le.Page != 2 {
		t.Fatalf("err = %v, want a loop to page 2's records", err)
	}
}

// The fingerprint is the same in every process: a fixed CRC, never zero
// once written.
func TestPageHash(t *testing.T) {
	var a, b paginate.PageHash
	if a.Sum64() != 0 {
		t.Error("an empty hash is not zero")
	}
	a.Write([]byte(`{"id":1}`))
	b.WriteString(`{"id":1}`)
	if a.Sum64() != b.Sum64() || a.Sum64() == 0 {
		t.Errorf("Write and WriteString differ: %x, %x", a.Sum64(), b.Sum64())
	}
	var long paginate.PageHash
	long.WriteString(strings.Repeat("x", 1000))
	var long2 paginate.PageHash
	long2.Write([]byte(strings.Repeat("x", 1000)))
	if long.Sum64() != long2.Sum64() {
		t.Error("WriteString of a long string differs from Write")
	}
}

// stuck is a page-number API of n records, size a page, whose page
// numbers past stuckAt are all answered with page stuckAt: past the end
// of the data when stuckAt is the last page (a server that clamps), before
// it otherwise (a server, or a Fetch, that ignores the position). It
// reports the totals its fields say.
type stuck struct {
	n, size, stuckAt int
	items, pages     bool
}

func (s stuck) Fetch(_ context.Context, pos paginate.Position) (paginate.Page[string], error) {
	page := min(max(int(pos.Page), 1), s.stuckAt)
	var items []string
	for i := (page - 1) * s.size; i < min(page*s.size, s.n); i++ {
		items = append(items, fmt.Sprintf("r%d", i+1))
	}
	p := paginate.Page[string]{Items: items, More: true, Next: paginate.Position{Page: int64(page + 1)}}
	if s.items {
		p.TotalItems = int64(s.n)
	}
	if s.pages {
		p.TotalPages = int64((s.n + s.size - 1) / s.size)
	}
	return p, nil
}

// TestLoopErrorHint: the error of a page that repeats the one before it
// suggests Options.Checks.RepeatedPageEnds only where it can be right: once every
// record (or page) the server reported has arrived, or, hedged, when the
// server reported no total. A repeat with records still to come says what
// is likely wrong instead, since RepeatedPageEnds would end that sync
// early, in silence. A resumed run counts the records of its earlier runs.
func TestLoopErrorHint(t *testing.T) {
	const (
		base     = "pagination loop: page 4 returned the same page as page 3 (page 3 of this run)"
		early    = "pagination loop: page 2 returned the same page as start (page 1 of this run)"
		resumed  = "pagination loop: page 4 returned the same page as page 3 (page 1 of this run)"
		suggest  = ": if the server answers past-the-end pages with its last page, set Options.Checks.RepeatedPageEnds"
		wrong    = ", so this is not the end of the data: Fetch ignored the position it was given (it reads its own counter or cursor, or started over after an error), or pages share state (a cache, a decode buffer or a slice kept across fetches)"
		noTotals = "; the server reported no total: if every record had arrived, the server answers past-the-end pages with its last page (set Options.Checks.RepeatedPageEnds); if not, Fetch ignored the position it was given, or pages share state"
	)
	tests := []struct {
		name  string
		api   stuck
		saved *paginate.Checkpoint
		want  string
	}{
		{"clamps past the end, reports records", stuck{n: 6, size: 2, stuckAt: 3, items: true}, nil,
			base + "; all 6 of the server's records had arrived" + suggest},
		{"clamps past the end, reports pages", stuck{n: 6, size: 2, stuckAt: 3, pages: true}, nil,
			base + "; all 3 of the server's pages had arrived" + suggest},
		{"clamps past the end, reports nothing", stuck{n: 6, size: 2, stuckAt: 3}, nil, base + noTotals},
		{"stuck before the end, reports records", stuck{n: 6, size: 2, stuckAt: 1, items: true}, nil,
			early + "; 4 of the server's 6 records were still to come" + wrong},
		{"stuck before the end, reports pages", stuck{n: 6, size: 2, stuckAt: 1, pages: true}, nil,
			early + "; 2 of the server's 3 pages were still to come" + wrong},
		{"stuck before the end, reports both", stuck{n: 6, size: 2, stuckAt: 1, items: true, pages: true}, nil,
			early + "; 4 of the server's 6 records were still to come" + wrong},
		{"stuck before the end, reports nothing", stuck{n: 6, size: 2, stuckAt: 1}, nil,
			"pagination loop: page 2 returned the same page as start (page 1 of this run)" + noTotals},
		{"resumed, clamps past the end, reports records", stuck{n: 6, size: 2, stuckAt: 3, items: true},
			&paginate.Checkpoint{Stream: "s", Position: paginate.Position{Page: 3}, Items: 4},
			resumed + "; all 6 of the server's records had arrived" + suggest},
		{"resumed, stuck before the end, reports records", stuck{n: 8, size: 2, stuckAt: 3, items: true},
			&paginate.Checkpoint{Stream: "s", Position: paginate.Position{Page: 3}, Items: 4},
			resumed + "; 2 of the server's 8 records were still to come" + wrong},
		// A resumed run does not know how many pages its earlier runs
		// read.
		{"resumed, clamps past the end, reports pages", stuck{n: 6, size: 2, stuckAt: 3, pages: true},
			&paginate.Checkpoint{Stream: "s", Position: paginate.Position{Page: 3}, Items: 4}, resumed + noTotals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			sink := new(paginate.MemorySink[string])
			if tt.saved != nil {
				if err := sink.Save(ctx, *tt.saved); err != nil {
					t.Fatal(err)
				}
			}
			res, err := paginate.Run(ctx, tt.api, sink, paginate.Options[string]{Stream: "s", Retry: fast})
			var le *paginate.LoopError
			if !errors.As(err, &le) || !le.Previous || res.Stop != paginate.StopLoopDetected {
				t.Fatalf("stop %v, err %v; want a *LoopError for a repeat of the page before", res.Stop, err)
			}
			if diff := cmp.Diff(tt.want, le.Error()); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}
