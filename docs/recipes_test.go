package docs

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// User is the record of the recipes, as recipes.md's setup declares it.
type User struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	UpdatedAt string `json:"updatedAt"`
}

// The recipes of recipes.md. Each snippet there is the body of one of
// these functions up to its return, word for word (TestRecipesInDoc checks
// it), and TestRecipes runs each against the mock API.

func recipeNumericNext() (*strategies.NextToken[User], paginate.Options[User]) {
	api := &strategies.NextToken[User]{
		Request:    strategies.Request{URL: "https://api.example.com/users"},
		SizeParam:  strategies.Query("_per_page"),
		Size:       50,
		Response:   strategies.Shape[User]{ItemsPath: "data"},
		FirstToken: "1", // the first request asks for _page=1,
		TokenPath:  "next",
		TokenParam: strategies.Query("_page"), // then {"next": 2} is sent back as _page=2
	}
	return api, paginate.Options[User]{}
}

func recipeClampTotal() (*strategies.PageNumber[User], paginate.Options[User]) {
	api := &strategies.PageNumber[User]{
		Request:   strategies.Request{URL: "https://api.example.com/users"},
		SizeParam: strategies.Query("_per_page"),
		Size:      50,
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "pages",
			TotalItemsPath: "items",
		},
		PageParam: strategies.Query("_page"),
	}
	return api, paginate.Options[User]{}
}

func recipeClampRepeat() (*strategies.PageNumber[User], paginate.Options[User]) {
	api := &strategies.PageNumber[User]{
		Request:   strategies.Request{URL: "https://api.example.com/users"},
		SizeParam: strategies.Query("_per_page"),
		Size:      50,
		Response:  strategies.Shape[User]{ItemsPath: "data"},
		PageParam: strategies.Query("_page"),
	}
	opts := paginate.Options[User]{Checks: paginate.Checks[User]{
		RepeatedPageEnds: true, // the last page served again for page N+1 is the end
	}}
	return api, opts
}

func recipeJSONServerPage() (*strategies.PageNumber[User], paginate.Options[User]) {
	api := &strategies.PageNumber[User]{
		Request: strategies.Request{
			URL:   "https://api.example.com/users",
			Query: url.Values{"_sort": {"updatedAt"}, "_order": {"asc"}},
		},
		SizeParam: strategies.Query("_limit"),
		Size:      50,
		Response: strategies.Shape[User]{
			TotalItemsHeader: "X-Total-Count", // and the body is the array: ItemsPath ""
		},
		Window: strategies.Window[User]{
			SinceParam: strategies.Query("updatedAt_gte"), // json-server's >= filter
		},
		PageParam: strategies.Query("_page"),
	}
	opts := paginate.Options[User]{
		Stream:    "users",
		HighWater: func(u User) string { return u.UpdatedAt }, // fixed-width UTC: sorts as time does
	}
	return api, opts
}

func recipeJSONServerStart() (*strategies.Offset[User], paginate.Options[User]) {
	api := &strategies.Offset[User]{
		Request:     strategies.Request{URL: "https://api.example.com/users"},
		SizeParam:   strategies.Query("_limit"),
		Size:        50,
		Response:    strategies.Shape[User]{TotalItemsHeader: "X-Total-Count"},
		OffsetParam: strategies.Query("_start"),
	}
	return api, paginate.Options[User]{}
}

func recipeLinkRelative() (*strategies.NextToken[User], paginate.Options[User]) {
	api := &strategies.NextToken[User]{
		Request: strategies.Request{
			URL:   "https://api.example.com/users",
			Query: url.Values{"per_page": {"50"}},
		},
		LinkRel: "next", // </users?page=2&per_page=50>; rel="next" resolves against the request
	}
	return api, paginate.Options[User]{}
}

func recipeBareStrings() *strategies.PageNumber[string] {
	api := &strategies.PageNumber[string]{
		// {"data": ["3f2c…", "9a41…"], "total_pages": 5}
		Request: strategies.Request{URL: "https://api.example.com/user_ids"},
		Response: strategies.Shape[string]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}
	return api
}

func recipeBareStringsLoop(ctx context.Context, api *strategies.PageNumber[string], handle func(string)) error {
	for id, err := range paginate.All(ctx, api, paginate.Options[string]{}) {
		if err != nil {
			return err
		}
		handle(id)
	}
	return nil
}

// serveMock serves a mock API of 237 records, a page size limit of 50 and
// random ties for the test's duration.
func serveMock(t *testing.T) (*mockapi.Server, string) {
	t.Helper()
	api := mockapi.New(mockapi.Config{Records: 237, Seed: 5})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return api, srv.URL
}

// sync runs p with opts to the end and returns the ids it delivered and
// the Result.
func sync(t *testing.T, p paginate.Paginator[User], opts paginate.Options[User]) ([]string, paginate.Result, error) {
	t.Helper()
	it := paginate.Iterate(context.Background(), p, opts)
	var ids []string
	for u, err := range it.All() {
		if err != nil {
			break
		}
		ids = append(ids, u.ID)
	}
	return ids, it.Result(), it.Err()
}

func idsOf(users []mockapi.User) []string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
}

// TestRecipes runs every recipe of recipes.md against the mock API's
// endpoint of that shape: a full sync delivers every record, in order, once,
// and stops for the reason the recipe says.
func TestRecipes(t *testing.T) {
	tests := []struct {
		name  string
		path  string
		build func(url string) (paginate.Paginator[User], paginate.Options[User])
		stop  paginate.StopReason
	}{
		{"numeric next", mockapi.PathJSONServerV1, func(u string) (paginate.Paginator[User], paginate.Options[User]) {
			api, opts := recipeNumericNext()
			api.Request.URL = u
			return api, opts
		}, paginate.StopNoNextToken},
		{"clamping server with a page count", mockapi.PathJSONServerV1, func(u string) (paginate.Paginator[User], paginate.Options[User]) {
			api, opts := recipeClampTotal()
			api.Request.URL = u
			return api, opts
		}, paginate.StopTotalReached},
		{"clamping server without a page count", mockapi.PathJSONServerV1, func(u string) (paginate.Paginator[User], paginate.Options[User]) {
			api, opts := recipeClampRepeat()
			api.Request.URL = u
			return api, opts
		}, paginate.StopRepeatedPage},
		{"json-server _page", mockapi.PathJSONServer, func(u string) (paginate.Paginator[User], paginate.Options[User]) {
			api, opts := recipeJSONServerPage()
			api.Request.URL = u
			return api, opts
		}, paginate.StopTotalReached},
		{"json-server _start", mockapi.PathJSONServer, func(u string) (paginate.Paginator[User], paginate.Options[User]) {
			api, opts := recipeJSONServerStart()
			api.Request.URL = u
			return api, opts
		}, paginate.StopTotalReached},
		{"relative Link URLs", mockapi.PathLinkRelative, func(u string) (paginate.Paginator[User], paginate.Options[User]) {
			api, opts := recipeLinkRelative()
			api.Request.URL = u
			return api, opts
		}, paginate.StopNoNextToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock, base := serveMock(t)
			p, opts := tt.build(base + tt.path)
			got, res, err := sync(t, p, opts)
			if err != nil {
				t.Fatalf("sync: %v", err)
			}
			if diff := cmp.Diff(idsOf(mock.Records()), got); diff != "" {
				t.Errorf("records delivered (-dataset +delivered):\n%s", diff)
			}
			if res.Stop != tt.stop {
				t.Errorf("stop reason %v, want %v", res.Stop, tt.stop)
			}
		})
	}
}

// TestRecipeClampWithoutOption: without RepeatedPageEnds, a clamping
// server that gives no page count stops the sync loudly, with a message
// that names the option.
func TestRecipeClampWithoutOption(t *testing.T) {
	_, base := serveMock(t)
	api, _ := recipeClampRepeat()
	api.Request.URL = base + mockapi.PathJSONServerV1
	_, res, err := sync(t, api, paginate.Options[User]{})
	if !errors.Is(err, paginate.ErrLoop) || !strings.Contains(err.Error(), "RepeatedPageEnds") || res.Stop != paginate.StopLoopDetected {
		t.Errorf("sync: %v, stop %v; want ErrLoop naming RepeatedPageEnds", err, res.Stop)
	}
}

// TestRecipeJSONServerIncremental: the json-server recipe's second sync
// asks for the records updated at or after the first one's mark, and gets
// the records updated in between.
func TestRecipeJSONServerIncremental(t *testing.T) {
	mock, base := serveMock(t)
	api, opts := recipeJSONServerPage()
	api.Request.URL = base + mockapi.PathJSONServer
	opts.Store = new(paginate.MemoryStore)
	if _, _, err := sync(t, api, opts); err != nil {
		t.Fatal(err)
	}
	all := mock.Records()
	mark := all[len(all)-1].UpdatedAt
	updated := idsOf(mock.Update(4))
	got, res, err := sync(t, api, opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, u := range mock.Records() {
		if !u.UpdatedAt.Before(mark) {
			want = append(want, u.ID)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" || res.Stop != paginate.StopTotalReached {
		t.Errorf("second sync, stop %v (want total reached), records (-want +got):\n%s", res.Stop, diff)
	}
	for _, id := range updated {
		if !slices.Contains(got, id) {
			t.Errorf("updated record %s not fetched again", id)
		}
	}
}

// TestRecipeBareStrings: the ids recipe reads a list of strings.
func TestRecipeBareStrings(t *testing.T) {
	mock, base := serveMock(t)
	api := recipeBareStrings()
	api.Request.URL = base + mockapi.PathIDs
	var got []string
	if err := recipeBareStringsLoop(context.Background(), api, func(id string) { got = append(got, id) }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(idsOf(mock.Records()), got); diff != "" {
		t.Errorf("ids (-dataset +delivered):\n%s", diff)
	}
}

// TestRecipesInDoc checks that every snippet of recipes.md is the body of
// a recipe function of this file, so that what TestRecipes runs is what
// the page shows.
func TestRecipesInDoc(t *testing.T) {
	doc, err := os.ReadFile("recipes.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("recipes_test.go")
	if err != nil {
		t.Fatal(err)
	}
	snippets, _, err := parseMarkdown("recipes.md", string(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(snippets) < 7 {
		t.Errorf("recipes.md has %d snippets, want at least 7", len(snippets))
	}
	for _, s := range snippets {
		indented := "\t" + strings.ReplaceAll(s.code, "\n", "\n\t") + "\n"
		if !strings.Contains(string(src), indented) {
			t.Errorf("recipes.md:%d: the snippet is not the body of a recipe function of recipes_test.go:\n%s", s.line, s.code)
		}
	}
}
