package paginate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// groupSink records what each Write of linear's pages received, as page
// numbers, and can be slow or fail.
type groupSink struct {
	delay time.Duration
	fail  func(pages []int) error

	mu     sync.Mutex
	writes [][]int // the pages of each Write
	items  []string
}

func (s *groupSink) Write(_ context.Context, items []string) error {
	time.Sleep(s.delay)
	var pages []int
	for _, it := range items {
		var p, i int
		fmt.Sscanf(it, "p%d-%d", &p, &i)
		if len(pages) == 0 || pages[len(pages)-1] != p {
			pages = append(pages, p)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, pages)
	if s.fail != nil {
		if err := s.fail(pages); err != nil {
			return err
		}
	}
	s.items = append(s.items, items...)
	return nil
}

// lastPage returns the highest page written so far.
func (s *groupSink) lastPage() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.items) == 0 {
		return 0
	}
	var p, i int
	fmt.Sscanf(s.items[len(s.items)-1], "p%d-%d", &p, &i)
	return p
}

// watchStore is a MemoryStore that checks, at every Save, that the
// checkpoint is exactly the page after the last one the sink wrote.
type watchStore struct {
	paginate.MemoryStore
	sink  *groupSink
	t     *testing.T
	saves int
	fail  int // the Save that fails (1-based), when > 0
}

var errStoreDown = errors.New("store down")

func (s *watchStore) Save(ctx context.Context, cp paginate.Checkpoint) error {
	s.saves++
	if s.saves == s.fail {
		return errStoreDown
	}
	if last := s.sink.lastPage(); !cp.Position.IsStart() && cp.Position.Page != int64(last+1) {
		s.t.Errorf("checkpoint %v saved after page %d was written: not the page after it", cp.Position, last)
	}
	return s.MemoryStore.Save(ctx, cp)
}

func TestGroupCommit(t *testing.T) {
	const pages = 30
	for _, tt := range []struct {
		name         string
		fetch, write time.Duration
		group        paginate.Group
		// check looks at the pages of each Write.
		check func(t *testing.T, writes [][]int)
	}{
		{
			name: "slow sink: the pages waiting are committed together", fetch: 10 * time.Millisecond, write: 104 * time.Millisecond,
			check: func(t *testing.T, writes [][]int) {
				// Nothing waits for the first page; ten pages
				// arrive during each commit of 104 ms.
				if diff := cmp.Diff([]int{1}, writes[0]); diff != "" {
					t.Errorf("first write (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, writes[1]); diff != "" {
					t.Errorf("second write (-want +got):\n%s", diff)
				}
			},
		},
		{
			name: "slow API: one page a commit", fetch: 100 * time.Millisecond, write: 10 * time.Millisecond,
			check: func(t *testing.T, writes [][]int) {
				if len(writes) != pages {
					t.Errorf("%d writes for %d pages, want one a page: %v", len(writes), pages, writes)
				}
			},
		},
		{
			name: "Pages bounds a group", fetch: 10 * time.Millisecond, write: 104 * time.Millisecond, group: paginate.Group{Pages: 4},
			check: func(t *testing.T, writes [][]int) {
				for _, w := range writes {
					if len(w) > 4 {
						t.Errorf("a write of %d pages, want at most 4: %v", len(w), w)
					}
				}
			},
		},
		{
			name: "Items bounds a group", fetch: 10 * time.Millisecond, write: 104 * time.Millisecond, group: paginate.Group{Items: 25},
			check: func(t *testing.T, writes [][]int) {
				if diff := cmp.Diff([]int{2, 3}, writes[1]); diff != "" {
					t.Errorf("second write (-want +got):\n%s", diff)
				}
				for _, w := range writes {
					if len(w) > 2 {
						t.Errorf("a write of %d pages of 10, want at most 25 items: %v", len(w), w)
					}
				}
			},
		},
		{
			name: "Wait collects pages that have not arrived", fetch: 10 * time.Millisecond, group: paginate.Group{Wait: 35 * time.Millisecond},
			check: func(t *testing.T, writes [][]int) {
				if diff := cmp.Diff([]int{1, 2, 3, 4}, writes[0]); diff != "" {
					t.Errorf("first write (-want +got):\n%s", diff)
				}
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				steps := linear(pages, 10)
				for _, st := range steps {
					st.delay = tt.fetch
				}
				sink := &groupSink{delay: tt.write}
				store := &watchStore{sink: sink, t: t}
				var committed []int
				observe := func(e paginate.Event) {
					if e.Kind != paginate.EventPageCommitted {
						return
					}
					committed = append(committed, e.Pages)
					// The event comes after the page's commit.
					if last := sink.lastPage(); last < e.Pages {
						t.Errorf("page %d reported committed when the sink has page %d", e.Pages, last)
					}
				}
				res, err := paginate.Run(t.Context(), newScript(steps), sink, paginate.Options[string]{Store: store, Group: tt.group, Observe: observe})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(itemsOf(steps, seqInts(1, pages)...), sink.items); diff != "" {
					t.Errorf("items (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(seqInts(1, pages), committed); diff != "" {
					t.Errorf("EventPageCommitted pages (-want +got):\n%s", diff)
				}
				if res.Pages != pages || res.Stop != paginate.StopLastPage {
					t.Errorf("Result: %d pages, stop %v; want %d, last page", res.Pages, res.Stop, pages)
				}
				if store.saves != len(sink.writes) {
					t.Errorf("%d checkpoints saved for %d writes, want one a write", store.saves, len(sink.writes))
				}
				tt.check(t, sink.writes)
			})
		})
	}
}

func seqInts(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// A fetch error behind a group, a group that fails on one page's record,
// and a checkpoint that fails after a group's items were written.
func TestGroupCommitErrors(t *testing.T) {
	errBad := errors.New("bad record")
	for _, tt := range []struct {
		name      string
		failFetch int                     // the page whose fetch fails, when > 0
		fail      func(pages []int) error // the sink's
		failSave  int                     // the Save that fails, when > 0
		// want
		writes  [][]int
		err     string
		pages   int
		cpAfter int // the page the checkpoint points at
	}{
		{
			name: "fetch error behind a group: the group first", failFetch: 6,
			writes: [][]int{{1}, {2, 3, 4, 5}}, pages: 5, cpAfter: 6,
			err: `paginate: stream "default": fetch page 6: gone`,
		},
		{
			name: "a bad record fails its group: committed again page by page",
			fail: func(pages []int) error {
				if slices.Contains(pages, 4) {
					return errBad
				}
				return nil
			},
			writes: [][]int{{1}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2}, {3}, {4}}, pages: 3, cpAfter: 4,
			err: `paginate: stream "default": commit page 4: sink: bad record`,
		},
		{
			name: "a checkpoint that fails after the group was written: not written again", failSave: 2,
			writes: [][]int{{1}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}, pages: 1, cpAfter: 2,
			err: `paginate: stream "default": commit 10 pages from page 2: save checkpoint: store down`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				steps := linear(30, 10)
				for _, st := range steps {
					st.delay = 10 * time.Millisecond
				}
				if tt.failFetch > 0 {
					steps[paginate.Position{Page: int64(tt.failFetch)}].errs = []error{paginate.Permanent(errors.New("gone"))}
				}
				sink := &groupSink{delay: 104 * time.Millisecond, fail: tt.fail}
				store := &watchStore{sink: sink, t: t, fail: tt.failSave}
				res, err := paginate.Run(t.Context(), newScript(steps), sink, paginate.Options[string]{Store: store, Retry: fast})
				if err == nil || err.Error() != tt.err {
					t.Errorf("error %v, want %s", err, tt.err)
				}
				if diff := cmp.Diff(tt.writes, sink.writes); diff != "" {
					t.Errorf("writes (-want +got):\n%s", diff)
				}
				cp, _, _ := store.Load(t.Context(), "default")
				if res.Pages != tt.pages || cp.Position.Page != int64(tt.cpAfter) || res.Checkpoint.Position != cp.Position {
					t.Errorf("Result %d pages, checkpoint %v (saved %v); want %d pages, checkpoint at page %d", res.Pages, res.Checkpoint.Position, cp.Position, tt.pages, tt.cpAfter)
				}
			})
		})
	}
}

// groupCommitter is a Committer and Store that records each Commit.
type groupCommitter struct {
	paginate.MemorySink[string]
	commits []paginate.Checkpoint
	sizes   []int
}

func (c *groupCommitter) Commit(ctx context.Context, items []string, cp paginate.Checkpoint) error {
	time.Sleep(104 * time.Millisecond)
	c.commits = append(c.commits, cp)
	c.sizes = append(c.sizes, len(items))
	if last := items[len(items)-1]; !strings.HasPrefix(last, fmt.Sprintf("p%d-", cp.Position.Page-1)) && cp.Position.Page != 0 {
		return fmt.Errorf("checkpoint %v committed with items up to %s", cp.Position, last)
	}
	return c.MemorySink.Commit(ctx, items, cp)
}

// A Committer gets a group's items in one Commit, with the checkpoint of
// the group's last page.
func TestGroupCommitCommitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := linear(12, 10)
		for _, st := range steps {
			st.delay = 10 * time.Millisecond
		}
		c := new(groupCommitter)
		res, err := paginate.Run(t.Context(), newScript(steps), c, paginate.Options[string]{})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int{10, 100, 10}, c.sizes); diff != "" {
			t.Errorf("items a commit (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(itemsOf(steps, seqInts(1, 12)...), c.Items()); diff != "" {
			t.Errorf("items (-want +got):\n%s", diff)
		}
		if res.Pages != 12 || !res.Checkpoint.Position.IsStart() {
			t.Errorf("Result: %d pages, checkpoint %v; want 12 and the start", res.Pages, res.Checkpoint.Position)
		}
	})
}

// The pages waiting for a slow sink hold at most Group.Items items, so
// that large pages are not fetched Group.Pages ahead.
func TestGroupCommitBoundsItemsAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := linear(40, 10)
		for _, st := range steps {
			st.delay = time.Millisecond
		}
		sink := &groupSink{delay: 100 * time.Millisecond}
		fetched, committed, most := 0, 0, 0
		observe := func(e paginate.Event) {
			switch e.Kind {
			case paginate.EventPageFetched:
				fetched++
			case paginate.EventPageCommitted:
				committed++
			}
			most = max(most, fetched-committed)
		}
		_, err := paginate.Run(t.Context(), newScript(steps), sink, paginate.Options[string]{
			Store: new(paginate.MemoryStore), Group: paginate.Group{Items: 30}, Observe: observe})
		if err != nil {
			t.Fatal(err)
		}
		// 30 items waiting, a group of 30 being written, and the page the
		// fetching side holds while it waits for room: 7 pages of 10.
		if most > 7 {
			t.Errorf("%d pages fetched ahead of the sink, want at most 7", most)
		}
		if len(sink.items) != 400 {
			t.Errorf("%d items written, want 400", len(sink.items))
		}
	})
}

// A cancel while a group is committed stops the run after that group: the
// Result, the saved checkpoint and the sink agree on the pages committed.
func TestGroupCommitCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		steps := linear(30, 10)
		for _, st := range steps {
			st.delay = 10 * time.Millisecond
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		sink := &groupSink{delay: 104 * time.Millisecond}
		store := &watchStore{sink: sink, t: t}
		observe := func(e paginate.Event) {
			if e.Kind == paginate.EventPageCommitted && e.Pages == 5 {
				cancel()
			}
		}
		res, err := paginate.Run(ctx, newScript(steps), sink, paginate.Options[string]{Store: store, Observe: observe})
		if !errors.Is(err, context.Canceled) || res.Stop != paginate.StopCancelled {
			t.Fatalf("Run = %v, stop %v; want cancelled", err, res.Stop)
		}
		// Page 5 was in the second group, pages 2 to 11.
		cp, _, _ := store.Load(t.Context(), "default")
		if res.Pages != 11 || cp.Position.Page != 12 || res.Checkpoint.Position != cp.Position || sink.lastPage() != 11 {
			t.Errorf("Result %d pages, checkpoint %v (saved %v), sink up to page %d; want 11 pages, checkpoint at page 12",
				res.Pages, res.Checkpoint.Position, cp.Position, sink.lastPage())
		}
	})
}
