package paginate_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// planned is an offset paginator over 0..total-1 that can plan ahead. It
// counts concurrent fetches and can be told to misbehave.
type planned struct {
	total   int
	size    int
	claimed int64 // the total it reports; total when zero
	latency time.Duration
	// capFrom caps pages at offset >= capFrom to half the size (a server
	// that starts capping midway), when > 0.
	capFrom int
	// failAt makes the fetch at that offset fail permanently, when > 0.
	failAt int

	mu          sync.Mutex
	inflight    int
	maxInflight int
	fetches     int
	starts      map[int]bool // offsets of the pages fetched
	commits     int          // pages committed, counted by committed
	maxAhead    int          // most pages fetched but not yet committed
}

// committed counts the pages whose items, alone or in a group, the sink
// took.
func (p *planned) committed(items []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range items {
		if p.starts[it] {
			p.commits++
		}
	}
}

func (p *planned) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
	p.mu.Lock()
	p.inflight++
	p.maxInflight = max(p.maxInflight, p.inflight)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inflight--
		p.fetches++
		p.maxAhead = max(p.maxAhead, p.fetches-p.commits)
		p.mu.Unlock()
	}()
	if p.latency > 0 {
		select {
		case <-time.After(p.latency):
		case <-ctx.Done():
			return paginate.Page[int]{}, ctx.Err()
		}
	}
	off := int(pos.Offset)
	p.mu.Lock()
	if p.starts == nil {
		p.starts = make(map[int]bool)
	}
	p.starts[off] = true
	p.mu.Unlock()
	if p.failAt > 0 && off == p.failAt {
		return paginate.Page[int]{}, paginate.Permanent(errors.New("gone"))
	}
	size := p.size
	if p.capFrom > 0 && off >= p.capFrom {
		size /= 2
	}
	end := min(off+size, p.total)
	var items []int
	for i := off; i < end; i++ {
		items = append(items, i)
	}
	claimed := p.claimed
	if claimed == 0 {
		claimed = int64(p.total)
	}
	page := paginate.Page[int]{Items: items, Next: paginate.Position{Offset: int64(end)}, TotalItems: claimed}
	switch {
	case len(items) == 0:
		page.Stop = paginate.StopEmptyPage
	case int64(end) >= claimed:
		page.Stop = paginate.StopTotalReached
	default:
		page.More = true
	}
	return page, nil
}

// Plan strides by the items the first page held, up to the claimed total.
func (p *planned) Plan(pos paginate.Position, first paginate.PageInfo) iter.Seq[paginate.Position] {
	if first.TotalItems == 0 || first.Items == 0 {
		return nil
	}
	return func(yield func(paginate.Position) bool) {
		for off := pos.Offset + int64(first.Items); off < first.TotalItems; off += int64(first.Items) {
			if !yield(paginate.Position{Offset: off}) {
				return
			}
		}
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func TestParallel(t *testing.T) {
	type want struct {
		Items       []int
		Stop        paginate.StopReason
		Checkpoint  paginate.Position
		MaxInflight int
		Err         string
	}
	tests := []struct {
		name string
		p    *planned
		opts paginate.Options[int]
		want want
	}{
		{
			name: "ordered, four at once",
			p:    &planned{total: 1000, size: 10, latency: time.Second},
			want: want{Items: seq(0, 1000), Stop: paginate.StopTotalReached, MaxInflight: 4},
		},
		{
			name: "sixteen at once",
			p:    &planned{total: 1000, size: 10, latency: time.Second},
			opts: paginate.Options[int]{Concurrency: 16},
			want: want{Items: seq(0, 1000), Stop: paginate.StopTotalReached, MaxInflight: 16},
		},
		{
			name: "concurrency 1 is sequential",
			p:    &planned{total: 100, size: 10, latency: time.Second},
			opts: paginate.Options[int]{Concurrency: 1},
			want: want{Items: seq(0, 100), Stop: paginate.StopTotalReached, MaxInflight: 1},
		},
		{
			name: "server starts capping page size midway: falls back to sequential, loses nothing",
			p:    &planned{total: 200, size: 10, capFrom: 55, latency: time.Second},
			want: want{Items: seq(0, 200), Stop: paginate.StopTotalReached, MaxInflight: 4},
		},
		{
			name: "total lies larger: stops on the empty page",
			p:    &planned{total: 95, size: 10, claimed: 200, latency: time.Second},
			want: want{Items: seq(0, 95), Stop: paginate.StopEmptyPage, MaxInflight: 4},
		},
		{
			name: "permanent error at page 7: checkpoint at page 7, nothing after it committed",
			p:    &planned{total: 200, size: 10, failAt: 60, latency: time.Second},
			want: want{Items: seq(0, 60), Stop: paginate.StopError, Checkpoint: paginate.Position{Offset: 60}, MaxInflight: 4,
				Err: `paginate: stream "default": fetch offset 60: gone`},
		},
		{
			name: "max pages",
			p:    &planned{total: 200, size: 10, latency: time.Second},
			opts: paginate.Options[int]{Limits: paginate.Limits{MaxPages: 5}},
			want: want{Items: seq(0, 50), Stop: paginate.StopMaxPages, Checkpoint: paginate.Position{Offset: 50}, MaxInflight: 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var items []int
				sink := paginate.SinkFunc[int](func(_ context.Context, page []int) error {
					items = append(items, page...)
					tt.p.committed(page)
					return nil
				})
				store := new(paginate.MemoryStore)
				opts := tt.opts
				opts.Store = store
				if opts.Group.Pages == 0 {
					opts.Group.Pages = 3
				}
				res, err := paginate.Run(t.Context(), tt.p, sink, opts)
				cp, _, _ := store.Load(t.Context(), "default")
				got := want{Items: items, Stop: res.Stop, Checkpoint: cp.Position, MaxInflight: tt.p.maxInflight}
				if err != nil {
					got.Err = err.Error()
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("parallel run (-want +got):\n%s", diff)
				}
				// Bounded memory: the reorder window (2*conc) plus the
				// pages waiting for the sink and the group being written
				// (see paginate.Group).
				conc := max(tt.opts.Concurrency, 4)
				if tt.opts.Concurrency == 1 {
					conc = 1
				}
				if limit := 2*conc + 2*3; tt.p.maxAhead > limit {
					t.Errorf("%d pages were fetched ahead of the sink, want at most %d", tt.p.maxAhead, limit)
				}
			})
		})
	}
}

func TestParallelSpeedup(t *testing.T) {
	// Under synctest time is exact: 100 pages of 1s each at concurrency 10
	// take the first page, then 99 pages in waves of 10.
	synctest.Test(t, func(t *testing.T) {
		p := &planned{total: 1000, size: 10, latency: time.Second}
		start := time.Now()
		_, err := paginate.Run(t.Context(), p, paginate.SinkFunc[int](func(context.Context, []int) error { return nil }),
			paginate.Options[int]{Concurrency: 10})
		if err != nil {
			t.Fatal(err)
		}
		if el, want := time.Since(start), 11*time.Second; el != want {
			t.Errorf("100 pages at 1s, 10 at once, took %v; want %v", el, want)
		}
	})
}

func TestParallelCancelKeepsPrefix(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &planned{total: 1000, size: 10, latency: time.Second}
		ctx, cancel := context.WithTimeout(t.Context(), 5500*time.Millisecond)
		defer cancel()
		var items []int
		sink := new(paginate.MemorySink[int])
		res, err := paginate.Run(ctx, p, paginate.SinkFunc[int](func(ctx context.Context, page []int) error {
			items = append(items, page...)
			return nil
		}), paginate.Options[int]{Store: sink})
		if !errors.Is(err, context.DeadlineExceeded) || res.Stop != paginate.StopCancelled {
			t.Fatalf("Run = %v, %v; want cancelled", res.Stop, err)
		}
		cp, _, _ := sink.Load(t.Context(), "default")
		if diff := cmp.Diff(seq(0, int(cp.Position.Offset)), items); diff != "" {
			t.Errorf("items are not exactly the prefix before the checkpoint at %v (-want +got):\n%s", cp.Position, diff)
		}
		if len(items) == 0 {
			t.Error("nothing committed before the deadline")
		}
	})
}
