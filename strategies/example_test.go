package strategies_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// User is the record of the examples' APIs.
type User struct {
	ID        string `json:"id"`
	UpdatedAt string `json:"updatedAt"`
}

// exampleUsers returns n users u01, u02, ...
func exampleUsers(n int) []User {
	us := make([]User, n)
	for i := range us {
		us[i] = User{ID: fmt.Sprintf("u%02d", i+1), UpdatedAt: fmt.Sprintf("2024-01-01T00:%02d:00Z", i)}
	}
	return us
}

// A page-number API like the mock API's: ?page=N&per_page=M, answered with
// {"data": [...], "page": N, "total_pages": T, "total_items": I}.
func ExamplePageNumber() {
	all := exampleUsers(7)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		size, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		from, to := min((page-1)*size, len(all)), min(page*size, len(all))
		json.NewEncoder(w).Encode(map[string]any{
			"data": all[from:to], "page": page, "total_pages": (len(all) + size - 1) / size, "total_items": len(all),
		})
	}))
	defer srv.Close()

	p := &strategies.PageNumber[User]{
		Request: strategies.Request{
			URL:   srv.URL + "/pagination/page_number",
			Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		SizeParam: strategies.Query("per_page"),
		Size:      3,
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
			TotalItemsPath: "total_items",
		},
		Window: strategies.Window[User]{
			SinceParam:   strategies.Query("updated_since"),
			SinceDefault: "0001-01-01T00:00:00Z",
		},
		PagePath: "page",
	}
	sink := new(paginate.MemorySink[User])
	res, err := paginate.Run(context.Background(), p, sink, paginate.Options[User]{
		Stream:    "users",
		HighWater: func(u User) string { return u.UpdatedAt },
	})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%d users in %d pages, stop: %v\n", res.Items, res.Pages, res.Stop)
	fmt.Println("next sync since:", res.Checkpoint.Position.Since)
	// Output:
	// 7 users in 3 pages, stop: total reached
	// next sync since: 2024-01-01T00:06:00Z
}

// A json-server style API: ?_start=N&_limit=M, answered with a bare JSON
// array and the total in X-Total-Count.
func ExampleOffset() {
	all := exampleUsers(5)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start, _ := strconv.Atoi(r.URL.Query().Get("_start"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("_limit"))
		limit = min(limit, 2) // the server caps the page size silently
		w.Header().Set("X-Total-Count", strconv.Itoa(len(all)))
		json.NewEncoder(w).Encode(all[min(start, len(all)):min(start+limit, len(all))])
	}))
	defer srv.Close()

	o := &strategies.Offset[User]{
		Request:     strategies.Request{URL: srv.URL + "/users"},
		SizeParam:   strategies.Query("_limit"),
		Size:        100,
		Response:    strategies.Shape[User]{TotalItemsHeader: "X-Total-Count"},
		OffsetParam: strategies.Query("_start"),
	}
	for page, err := range paginate.Pages(context.Background(), o, paginate.Options[User]{}) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%d items, more %v, next offset %d\n", len(page.Items), page.More, page.Next.Offset)
	}
	// Output:
	// 2 items, more true, next offset 2
	// 2 items, more true, next offset 4
	// 1 items, more false, next offset 0
}

// A Stripe style list: ?limit=M&starting_after=<last id>, answered with
// {"data": [...], "has_more": bool}.
func ExampleCursor() {
	all := exampleUsers(5)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := all
		for i, u := range all {
			if u.ID == r.URL.Query().Get("starting_after") {
				rest = all[i+1:]
			}
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		page := rest[:min(limit, len(rest))]
		fmt.Println("GET", r.URL.RequestURI())
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": page, "has_more": len(rest) > len(page)})
	}))
	defer srv.Close()

	c := &strategies.Cursor[User]{
		Request: strategies.Request{URL: srv.URL + "/v1/customers"},
		Size:    2,
		Response: strategies.Shape[User]{
			ItemsPath:   "data",
			HasMorePath: "has_more",
		},
		CursorParam: strategies.Query("starting_after"),
		Value:       func(u User) string { return u.ID },
	}
	var ids []string
	for u, err := range paginate.All(context.Background(), c, paginate.Options[User]{}) {
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		ids = append(ids, u.ID)
	}
	fmt.Println(ids)
	// Output:
	// GET /v1/customers?limit=2
	// GET /v1/customers?limit=2&starting_after=u02
	// GET /v1/customers?limit=2&starting_after=u04
	// [u01 u02 u03 u04 u05]
}

// A GitHub style API: the next page's URL in the Link header.
func ExampleNextToken() {
	all := exampleUsers(5)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		from, to := min((page-1)*2, len(all)), min(page*2, len(all))
		if to < len(all) {
			w.Header().Set("Link", fmt.Sprintf(`<%s/users?page=%d>; rel="next", <%s/users?page=3>; rel="last"`,
				"http://"+r.Host, page+1, "http://"+r.Host))
		}
		fmt.Println("GET", r.URL.RequestURI())
		json.NewEncoder(w).Encode(all[from:to])
	}))
	defer srv.Close()

	n := &strategies.NextToken[User]{
		Request: strategies.Request{URL: srv.URL + "/users", Header: http.Header{"Accept": {"application/vnd.github+json"}}},
		LinkRel: "next",
	}
	sink := new(paginate.MemorySink[User])
	res, err := paginate.Run(context.Background(), n, sink, paginate.Options[User]{})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%d users, stop: %v\n", res.Items, res.Stop)
	// Output:
	// GET /users
	// GET /users?page=2
	// GET /users?page=3
	// 5 users, stop: no next token
}

func ExampleParseLinkHeader() {
	links := strategies.ParseLinkHeader(
		`<https://api.github.com/user/repos?page=3&per_page=100>; rel="next", <https://api.github.com/user/repos?page=50&per_page=100>; rel="last"`,
		`</search?q=a,b>; rel="prev first"; title="a, \"quoted\" title"`,
	)
	for _, l := range links {
		fmt.Println(l.Rel, l.URL)
		if title, ok := l.Params["title"]; ok {
			fmt.Println("  title:", title)
		}
	}
	// Output:
	// [next] https://api.github.com/user/repos?page=3&per_page=100
	// [last] https://api.github.com/user/repos?page=50&per_page=100
	// [prev first] /search?q=a,b
	//   title: a, "quoted" title
}
