package paginatetest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/paginate/paginatetest"
)

type rec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// pageAPI scripts a page-number API with pages of the given sizes:
// GET /items?page=N -> {"items": [...], "more": bool}.
func pageAPI(sizes ...int) (*paginatetest.API, []rec) {
	api := &paginatetest.API{ItemsPath: "items"}
	var all []rec
	for p, size := range sizes {
		var items []rec
		for i := 0; i < size; i++ {
			r := rec{ID: fmt.Sprintf("%02d-%02d", p+1, i), Name: fmt.Sprintf("record %d of page %d", i, p+1)}
			items = append(items, r)
		}
		all = append(all, items...)
		body, _ := json.Marshal(map[string]any{"items": items, "more": p < len(sizes)-1})
		api.Responses = append(api.Responses, paginatetest.Response{Path: "/items", Query: fmt.Sprintf("page=%d", p+1), Body: string(body)})
	}
	return api, all
}

// pager is the simplest correct page-number paginator over pageAPI.
type pager struct {
	base   string
	client *http.Client
}

func (p *pager) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[rec], error) {
	n := max(pos.Page, 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/items?page=%d", p.base, n), nil)
	if err != nil {
		return paginate.Page[rec]{}, paginate.Permanent(err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return paginate.Page[rec]{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("status %d: %s", resp.StatusCode, b)
		if resp.StatusCode < 500 {
			err = paginate.Permanent(err)
		}
		return paginate.Page[rec]{}, err
	}
	var body struct {
		Items []rec `json:"items"`
		More  bool  `json:"more"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return paginate.Page[rec]{}, err
	}
	return paginate.Page[rec]{Items: body.Items, More: body.More, Next: paginate.Position{Page: n + 1}}, nil
}

func TestSuiteOnACorrectPaginator(t *testing.T) {
	newPager := func(base string, c *http.Client) paginate.Paginator[rec] {
		return &pager{base: base, client: c}
	}
	key := func(r rec) string { return r.ID }
	t.Run("api-oracle", func(t *testing.T) {
		api, _ := pageAPI(3, 3, 3, 2)
		paginatetest.Suite[rec]{Handler: api, New: newPager, Key: key}.Run(t)
	})
	t.Run("want", func(t *testing.T) {
		api, all := pageAPI(3, 3, 2)
		api.ItemsPath = "" // not an oracle: Want is
		paginatetest.Suite[rec]{Handler: api, New: newPager, Key: key, Want: all}.Run(t)
	})
}

// TestAPIWantJSON: a scripted API with ItemsPath lists the records of its
// 2xx responses on the request's path, in script order.
func TestAPIWantJSON(t *testing.T) {
	api := &paginatetest.API{ItemsPath: "result.items", Responses: []paginatetest.Response{
		{Path: "/a", Query: "page=1", Body: `{"result": {"items": [{"id": "1"}, {"id": "2"}]}}`},
		{Path: "/a", Query: "page=2", Body: `{"result": {"items": [{"id": "3"}], "next": null}}`},
		{Path: "/a", Query: "page=3", Status: http.StatusNotFound, Body: `{"error": "no page"}`},
		{Path: "/b", Body: `{"result": {"items": [{"id": "b"}]}}`},
		{Body: `{"result": {"items": null}}`},
	}}
	got, err := api.WantJSON(httptest.NewRequest(http.MethodGet, "/a?page=2", nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`[{"id":"1"},{"id":"2"},{"id":"3"}]`, string(got)); diff != "" {
		t.Errorf("WantJSON(/a) (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		api  *paginatetest.API
		want string
	}{
		{&paginatetest.API{}, "API.ItemsPath is empty"},
		{&paginatetest.API{ItemsPath: "data", Responses: []paginatetest.Response{{Query: "page=1", Body: `{"items": []}`}}}, `API.Responses[0] (query "page=1"): the body has no "data"`},
		{&paginatetest.API{ItemsPath: "data", Responses: []paginatetest.Response{{Body: `{"data": {}}`}}}, `"data" in the body is not an array`},
		{&paginatetest.API{ItemsPath: ".", Responses: []paginatetest.Response{{Body: `<html>`}}}, `"." in the body is not an array`},
	} {
		_, err := tc.api.WantJSON(httptest.NewRequest(http.MethodGet, "/", nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WantJSON = %v, want an error containing %q", err, tc.want)
		}
	}
}

func TestAPIMatchesQueryAndPath(t *testing.T) {
	api := &paginatetest.API{Responses: []paginatetest.Response{
		{Path: "/a", Query: "page=2", Body: "two"},
		{Path: "/a", Body: "any"},
		{Query: "x=1", Status: http.StatusTeapot, Body: "tea"},
	}, Faults: map[int]paginatetest.Fault{4: {Status: 429, RetryAfter: "3", Body: "slow"}}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	type got struct {
		Status     int
		RetryAfter string
		Body       string
	}
	var gots []got
	for _, path := range []string{"/a?page=2&per_page=5", "/a?page=3", "/b?x=1", "/a?page=2", "/c"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		gots = append(gots, got{resp.StatusCode, resp.Header.Get("Retry-After"), strings.TrimSpace(string(b))})
	}
	want := []got{
		{200, "", "two"},
		{200, "", "any"},
		{418, "", "tea"},
		{429, "3", "slow"},
		{404, "", `{"error": "paginatetest: no scripted response for /c"}`},
	}
	if diff := cmp.Diff(want, gots); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/a?page=2&per_page=5", "/a?page=3", "/b?x=1", "/a?page=2", "/c"}, api.Requests()); diff != "" {
		t.Errorf("recorded requests (-want +got):\n%s", diff)
	}
}

func TestReplayAndDrop(t *testing.T) {
	api, _ := pageAPI(1, 1, 1, 1)
	h := paginatetest.Replay(paginatetest.WithFaults(api, func(n int) (paginatetest.Fault, bool) {
		return paginatetest.Fault{Drop: true}, n == 1
	}), 3)
	srv := httptest.NewServer(h)
	defer srv.Close()
	if _, err := get(srv, "/items?page=1"); err == nil {
		t.Error("request 1 should have been cut mid-body")
	}
	var bodies []string
	for _, p := range []string{"/items?page=2", "/items?page=3", "/items?page=4"} {
		b, err := get(srv, p)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	if bodies[1] != bodies[0] || bodies[2] != bodies[0] {
		t.Errorf("Replay from request 3 should repeat request 2's answer, got %q", bodies)
	}
}

func get(srv *httptest.Server, path string) (string, error) {
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
