package strategies_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// searchBody is a request body with values that do not survive a trip
// through float64, in an order that is not sorted.
type searchBody struct {
	Query  string          `json:"query"`
	Big    int64           `json:"big"`
	Exact  json.Number     `json:"exact"`
	Ratio  float64         `json:"ratio"`
	Raw    json.RawMessage `json:"raw"`
	Paging struct {
		Size int `json:"size"`
	} `json:"paging"`
}

// Every request after the first carries the body's values byte for byte,
// in the same order, with only the token field added.
func TestNextTokenBodyKeepsValues(t *testing.T) {
	pages := split(users(30), 10)
	var bodies []string
	api := &tokenAPI{pages: pages, tokens: []string{"", "t2", "t3"},
		read: func(r *http.Request) string {
			b, _ := io.ReadAll(r.Body)
			bodies = append(bodies, string(b))
			var req struct {
				Paging struct {
					Token string `json:"token"`
				} `json:"paging"`
			}
			json.Unmarshal(b, &req)
			return req.Paging.Token
		},
		write: func(w http.ResponseWriter, _ *http.Request, items []user, next string) {
			writeJSON(w, 200, map[string]any{"items": items, "next": next})
		}}
	srv, _ := serve(t, api)
	body := searchBody{Query: "a<b", Big: 9007199254740993, Exact: "12345678901234567890.000000000001", Ratio: 0.1,
		Raw: json.RawMessage(`{"z":1,"a":[1.0,2E3]}`)}
	body.Paging.Size = 10
	p := &strategies.NextToken[user]{
		Request: strategies.Request{
			URL:  srv.URL + "/search",
			Body: body,
		},
		Response:   strategies.Shape[user]{ItemsPath: "items"},
		TokenPath:  "next",
		TokenParam: strategies.Body("paging.token"),
	}
	got, _, err := runAll(t, p, paginate.Options[user]{Concurrency: 1})
	if err != nil || len(got) != 30 {
		t.Fatalf("Run: %d items, %v", len(got), err)
	}
	first, _ := json.Marshal(body)
	want := []string{
		string(first),
		`{"query":"a\u003cb","big":9007199254740993,"exact":12345678901234567890.000000000001,"ratio":0.1,"raw":{"z":1,"a":[1.0,2E3]},"paging":{"size":10,"token":"t2"}}`,
		`{"query":"a\u003cb","big":9007199254740993,"exact":12345678901234567890.000000000001,"ratio":0.1,"raw":{"z":1,"a":[1.0,2E3]},"paging":{"size":10,"token":"t3"}}`,
	}
	if diff := cmp.Diff(want, bodies); diff != "" {
		t.Errorf("request bodies (-want +got):\n%s", diff)
	}
}
