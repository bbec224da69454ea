package strategies_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// A search by POST, HubSpot style: the page size, the lower bound and the
// cursor all go in the JSON body, around the body's own fields, which are
// sent byte for byte.
func ExampleBody() {
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		requests = append(requests, r.Method+" "+string(body))
		if len(body) > 0 && string(body[len(body)-6:]) == `"c2"}}` {
			fmt.Fprint(w, `{"results":[{"id":"u3"}]}`)
			return
		}
		fmt.Fprint(w, `{"results":[{"id":"u1"},{"id":"u2"}],"paging":{"next":{"after":"c2"}}}`)
	}))
	defer srv.Close()

	p := &strategies.NextToken[User]{
		Request: strategies.Request{
			URL:  srv.URL + "/search",
			Body: map[string]any{"properties": []string{"email"}},
		},
		Size:       2,
		SizeParam:  strategies.Body("page.limit"),
		Response:   strategies.Shape[User]{ItemsPath: "results"},
		Window:     strategies.Window[User]{SinceParam: strategies.Body("filter.updated_since")},
		TokenPath:  "paging.next.after",
		TokenParam: strategies.Body("page.after"),
	}
	for u, err := range paginate.All(context.Background(), p, paginate.Options[User]{}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(u.ID)
	}
	for _, r := range requests {
		fmt.Println(r)
	}
	// Output:
	// u1
	// u2
	// u3
	// POST {"properties":["email"],"page":{"limit":2}}
	// POST {"properties":["email"],"page":{"limit":2,"after":"c2"}}
}

// Credentials for every attempt: the helpers set them where the API wants
// them and mask them in every error.
func ExampleAuth() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Header.Get("Authorization"), r.URL.Query().Get("api_key") != "")
		fmt.Fprint(w, `[]`)
	}))
	defer srv.Close()

	p := &strategies.PageNumber[User]{Request: strategies.Request{
		URL:  srv.URL + "/users",
		Auth: strategies.Chain(strategies.Bearer("t0ken"), strategies.APIKeyQuery("api_key", "k3y")),
	}}
	_, err := paginate.Run(context.Background(), p, paginate.SinkFunc[User](func(context.Context, []User) error { return nil }), paginate.Options[User]{})
	fmt.Println(err)
	// Output:
	// Bearer t0ken true
	// <nil>
}
