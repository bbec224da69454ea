package paginate_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

// planPanics is a planner whose plan panics after one position.
type planPanics struct{ *planned }

func (p planPanics) Plan(pos paginate.Position, first paginate.PageInfo) iter.Seq[paginate.Position] {
	return func(yield func(paginate.Position) bool) {
		if yield(paginate.Position{Offset: 10}) {
			panic("plan broke")
		}
	}
}

// A panic in user code on one of the runner's goroutines is raised again
// on the caller's, where it can be recovered, and leaves no goroutine.
func TestPanicReachesCaller(t *testing.T) {
	boom := func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) { panic("fetch broke") }
	tests := []struct {
		name string
		p    paginate.Paginator[int]
		opts paginate.Options[int]
		want string
	}{
		{"in Fetch", paginate.PaginatorFunc[int](boom), paginate.Options[int]{}, "fetch broke"},
		{"in Key", &planned{total: 30, size: 10}, paginate.Options[int]{Key: func(int) string { panic("key broke") }}, "key broke"},
		{"in a plan", planPanics{&planned{total: 50, size: 10}}, paginate.Options[int]{}, "plan broke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got any
			func() {
				defer func() { got = recover() }()
				_, _ = paginate.Run(context.Background(), tt.p, new(paginate.MemorySink[int]), tt.opts)
			}()
			if got == nil || !strings.Contains(fmt.Sprint(got), tt.want) {
				t.Errorf("recovered %v, want a panic that says %q", got, tt.want)
			}
		})
	}
}

// parallelPanic plans, and panics on the fetch at offset 20.
type parallelPanic struct{ *planned }

func (p parallelPanic) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
	if pos.Offset == 20 {
		panic("worker broke")
	}
	return p.planned.Fetch(ctx, pos)
}

func TestPanicInParallelWorker(t *testing.T) {
	var got any
	func() {
		defer func() { got = recover() }()
		_, _ = paginate.Run(context.Background(), parallelPanic{&planned{total: 100, size: 10}}, new(paginate.MemorySink[int]), paginate.Options[int]{})
	}()
	if got == nil || !strings.Contains(fmt.Sprint(got), "worker broke") {
		t.Errorf("recovered %v, want the worker's panic", got)
	}
}

func TestMoreWithoutNext(t *testing.T) {
	p := paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
		return paginate.Page[int]{Items: []int{1}, More: true}, nil
	})
	res, err := paginate.Run(context.Background(), p, new(paginate.MemorySink[int]), paginate.Options[int]{})
	if !errors.Is(err, paginate.ErrNoNext) || res.Stop != paginate.StopError || res.Pages != 0 {
		t.Errorf("Run = %d pages, stop %v, err %v; want 0 pages, error, ErrNoNext", res.Pages, res.Stop, err)
	}
}
