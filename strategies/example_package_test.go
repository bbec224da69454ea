package strategies_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// A sync of a page-number API, here the mock API of package mockapi, and
// the incremental sync after it. The first page reports the page count, so
// the runner fetches the others in parallel and still hands them to the
// sink in order; the checkpoint's Since is what the next sync sends as
// updated_since.
func Example() {
	mock := mockapi.New(mockapi.Config{Records: 120})
	srv := httptest.NewServer(mock)
	defer srv.Close()

	p := &strategies.PageNumber[User]{
		Request: strategies.Request{
			URL:   srv.URL + mockapi.PathPageNumber,
			Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
			TotalItemsPath: "total_items",
		},
		Window: strategies.Window[User]{SinceParam: strategies.Query("updated_since")},
	}
	ctx := context.Background()
	sink := new(paginate.MemorySink[User])
	store := new(paginate.MemoryStore)
	opts := paginate.Options[User]{
		Stream:    "users",
		Store:     store,
		HighWater: func(u User) string { return u.UpdatedAt },
	}
	res, err := paginate.Run(ctx, p, sink, opts)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%d users in %d pages, stop: %v\n", res.Items, res.Pages, res.Stop)

	mock.Update(2) // two records change after the sync
	res, err = paginate.Run(ctx, p, sink, opts)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("incremental: %d users in %d page, stop: %v\n", res.Items, res.Pages, res.Stop)
	// Output:
	// 120 users in 3 pages, stop: total reached
	// incremental: 3 users in 1 page, stop: total reached
}
