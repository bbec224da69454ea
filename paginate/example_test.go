package paginate_test

import (
	"context"
	"fmt"

	"github.com/pagekit/pagekit/paginate"
)

// numbers is a paginator over 1..n, three items a page.
func numbers(n int) paginate.Paginator[int] {
	return paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
		first := int(pos.Offset)
		last := min(first+3, n)
		var items []int
		for i := first; i < last; i++ {
			items = append(items, i+1)
		}
		return paginate.Page[int]{
			Items:      items,
			More:       last < n,
			Next:       paginate.Position{Offset: int64(last)},
			TotalItems: int64(n),
		}, nil
	})
}

func ExampleRun() {
	sink := new(paginate.MemorySink[int])
	res, err := paginate.Run(context.Background(), numbers(8), sink, paginate.Options[int]{Stream: "numbers"})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(sink.Items())
	fmt.Printf("%d pages, %d items, stop: %v\n", res.Pages, res.Items, res.Stop)
	// Output:
	// [1 2 3 4 5 6 7 8]
	// 3 pages, 8 items, stop: last page
}

func ExampleAll() {
	for n, err := range paginate.All(context.Background(), numbers(5), paginate.Options[int]{}) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Print(n, " ")
	}
	fmt.Println()
	// Output: 1 2 3 4 5
}

func ExamplePages() {
	for page, err := range paginate.Pages(context.Background(), numbers(7), paginate.Options[int]{}) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println(page.Items, "more:", page.More)
	}
	// Output:
	// [1 2 3] more: true
	// [4 5 6] more: true
	// [7] more: false
}

// A run that stops early, here at a page limit, leaves a checkpoint; the
// next run with the same store and stream goes on from it.
func ExampleRun_resume() {
	ctx := context.Background()
	store := new(paginate.MemoryStore)
	sink := new(paginate.MemorySink[int])
	opts := paginate.Options[int]{Stream: "numbers", Store: store, Limits: paginate.Limits{MaxPages: 2}}
	res, _ := paginate.Run(ctx, numbers(8), sink, opts)
	fmt.Println("first run:", res.Stop, "- next:", res.Checkpoint.Position)

	opts.Limits.MaxPages = 0
	res, _ = paginate.Run(ctx, numbers(8), sink, opts)
	fmt.Println("second run:", res.Stop, "- resumed:", res.Resumed, "- pages:", res.Pages)
	fmt.Println(sink.Items())
	// Output:
	// first run: max pages - next: offset 6
	// second run: last page - resumed: true - pages: 1
	// [1 2 3 4 5 6 7 8]
}
