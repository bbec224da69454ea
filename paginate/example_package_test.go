package paginate_test

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pagekit/pagekit/paginate"
)

// The three parts of a sync: a paginator that fetches the page at a
// position and says where the next one starts, a sink that takes each
// page's items, and a store that keeps the checkpoint. Run ties them
// together; this run is cut short after two pages, as a crash would, and
// the next run goes on from the checkpoint.
func Example() {
	// An API that serves the letters a to j, four a page, with an opaque
	// token for the next page.
	letters := "abcdefghij"
	api := paginate.PaginatorFunc[string](func(ctx context.Context, pos paginate.Position) (paginate.Page[string], error) {
		start, _ := strconv.Atoi(pos.Token) // the zero Position is the first page
		end := min(start+4, len(letters))
		var items []string
		for _, r := range letters[start:end] {
			items = append(items, string(r))
		}
		return paginate.Page[string]{
			Items: items,
			More:  end < len(letters),
			Next:  paginate.Position{Token: strconv.Itoa(end)},
		}, nil
	})

	ctx := context.Background()
	sink := new(paginate.MemorySink[string])
	store := new(paginate.MemoryStore)
	opts := paginate.Options[string]{Stream: "letters", Store: store, Limits: paginate.Limits{MaxPages: 2}}

	res, err := paginate.Run(ctx, api, sink, opts)
	fmt.Println(sink.Items(), res.Stop, "- checkpoint:", res.Checkpoint.Position, err)

	opts.Limits.MaxPages = 0
	res, err = paginate.Run(ctx, api, sink, opts)
	fmt.Println(sink.Items(), res.Stop, "- resumed:", res.Resumed, err)
	// Output:
	// [a b c d e f g h] max pages - checkpoint: token 8 <nil>
	// [a b c d e f g h i j] last page - resumed: true <nil>
}
