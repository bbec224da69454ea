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
