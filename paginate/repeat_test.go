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
				opts := paginate.Options[string]{Stream: "s", RepeatedPageEnds: ends, Retry: fast, HighWater: mark}
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
			opts := paginate.Options[string]{Stream: "s", Retry: fast, HighWater: mark, MaxPages: 2}
			if res, err := paginate.Run(ctx, api, sink, opts); err != nil || res.Stop != paginate.StopMaxPages {
				t.Fatalf("first run: stop %v, err %v; want max pages", res.Stop, err)
			}
			cp, _, _ := sink.Load(ctx, "s")
			if cp.LastPage == 0 || cp.Position != (paginate.Position{Page: 3}) {
				t.Fatalf("checkpoint after max pages: %+v, want page 3 with the last page's fingerprint", cp)
			}
			opts.MaxPages, opts.RepeatedPageEnds = 0, ends
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
