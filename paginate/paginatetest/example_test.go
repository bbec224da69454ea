package paginatetest_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/paginate/paginatetest"
	"github.com/pagekit/pagekit/strategies"
)

// A scripted API answers each request with the first response whose path
// and query match it, injects a fault into the requests Faults names (here
// a 503 on the second), and records every request, so a test can check
// what a paginator asked for and how it took the fault.
func ExampleAPI() {
	type User struct {
		ID string `json:"id"`
	}
	api := &paginatetest.API{
		ItemsPath: "data",
		Responses: []paginatetest.Response{
			{Path: "/users", Query: "page=2", Body: `{"data": [{"id": "3"}], "total_pages": 2}`},
			{Path: "/users", Body: `{"data": [{"id": "1"}, {"id": "2"}], "total_pages": 2}`},
		},
		Faults: map[int]paginatetest.Fault{2: {Status: 503, RetryAfter: "0"}},
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	p := &strategies.PageNumber[User]{
		Request: strategies.Request{URL: srv.URL + "/users"},
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}
	sink := new(paginate.MemorySink[User])
	res, err := paginate.Run(context.Background(), p, sink, paginate.Options[User]{Concurrency: 1})
	fmt.Println(sink.Items(), res.Stop, "retries:", res.Retries, err)
	fmt.Println(api.Requests())
	// Output:
	// [{1} {2} {3}] total reached retries: 1 <nil>
	// [/users?page=1 /users?page=2 /users?page=2]
}
