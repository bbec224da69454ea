package paginate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

// memPages serves total items of type int, size a page, from memory: the
// cheapest paginator possible, so that the benchmark measures the runner.
type memPages struct {
	items []int
	size  int
}

func (m *memPages) Fetch(_ context.Context, pos paginate.Position) (paginate.Page[int], error) {
	end := min(int(pos.Offset)+m.size, len(m.items))
	return paginate.Page[int]{
		Items: m.items[pos.Offset:end],
		More:  end < len(m.items),
		Next:  paginate.Position{Offset: int64(end)},
	}, nil
}

// BenchmarkRun syncs 1,000,000 small items through Run into a sink that only
// counts them, at several page sizes. One op is the whole sync; ns/item and
// allocs/page are reported so that a per-item cost would show.
func BenchmarkRun(b *testing.B) {
	const total = 1_000_000
	items := make([]int, total)
	for i := range items {
		items[i] = i
	}
	for _, size := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("page=%d", size), func(b *testing.B) {
			p := &memPages{items: items, size: size}
			var n int
			sink := paginate.SinkFunc[int](func(_ context.Context, items []int) error {
				n += len(items)
				return nil
			})
			b.ReportAllocs()
			for b.Loop() {
				n = 0
				if _, err := paginate.Run(context.Background(), p, sink, paginate.Options[int]{}); err != nil {
					b.Fatal(err)
				}
				if n != total {
					b.Fatalf("synced %d items, want %d", n, total)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/total, "ns/item")
		})
	}
}

// BenchmarkHandLoop is the same sync as a plain loop, the floor for Run.
func BenchmarkHandLoop(b *testing.B) {
	const total, size = 1_000_000, 100
	items := make([]int, total)
	p := &memPages{items: items, size: size}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		pos := paginate.Position{}
		for {
			page, err := p.Fetch(context.Background(), pos)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page.Items)
			if !page.More {
				break
			}
			pos = page.Next
		}
		if n != total {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/total, "ns/item")
}
