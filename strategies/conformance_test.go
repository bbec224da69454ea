package strategies_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/paginate/paginatetest"
	"github.com/pagekit/pagekit/strategies"
)

// stampLayout is the mock API's timestamp form, fixed width, so that marks
// compare as strings in time order.
const stampLayout = "2006-01-02T15:04:05Z"

func confKey(u mockapi.User) string   { return u.ID }
func confStamp(u mockapi.User) string { return u.UpdatedAt.UTC().Format(stampLayout) }

// confNew builds a paginator under test from the address of a server
// running the mock API.
type confNew = func(base string, c *http.Client) paginate.Paginator[mockapi.User]

// The paginators of the mock API's endpoints, each configured as a
// connector author would, with pages of size records.

func confPageNumber(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &strategies.PageNumber[mockapi.User]{
			Request:   strategies.Request{URL: base + mockapi.PathPageNumber, Client: c},
			Size:      size,
			SizeParam: strategies.Query("per_page"),
			Response: strategies.Shape[mockapi.User]{
				ItemsPath:      "data",
				TotalPagesPath: "total_pages",
				TotalItemsPath: "total_items",
			},
			Window:   strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
			PagePath: "page",
		}
	}
}

func confOffset(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &strategies.Offset[mockapi.User]{
			Request: strategies.Request{URL: base + mockapi.PathOffset, Client: c},
			Size:    size,
			Response: strategies.Shape[mockapi.User]{
				ItemsPath:      "data",
				TotalItemsPath: "total",
			},
			Window: strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
		}
	}
}

// confCursorSince pages the page-number endpoint by its inclusive
// updated_since filter alone: each request asks for the first page of the
// records updated at or after the last record's updatedAt, and the cursor
// drops, by key, the records at that value it delivered already.
func confCursorSince(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &strategies.Cursor[mockapi.User]{
			Request:     strategies.Request{URL: base + mockapi.PathPageNumber, Client: c},
			SizeParam:   strategies.Query("per_page"),
			Size:        size,
			Response:    strategies.Shape[mockapi.User]{ItemsPath: "data"},
			Window:      strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
			CursorParam: strategies.Query("updated_since"),
			Value:       confStamp,
			Inclusive:   true,
			Key:         confKey,
		}
	}
}

func confCursorStartingAfter(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &strategies.Cursor[mockapi.User]{
			Request: strategies.Request{URL: base + mockapi.PathStartingAfter, Client: c},
			Size:    size,
			Response: strategies.Shape[mockapi.User]{
				ItemsPath:   "data",
				HasMorePath: "has_more",
			},
			CursorParam: strategies.Query("starting_after"),
			Value:       confKey,
		}
	}
}

func confNextPageURL(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &strategies.NextToken[mockapi.User]{
			Request:   strategies.Request{URL: base + mockapi.PathNextPageURL, Client: c},
			SizeParam: strategies.Query("per_page"),
			Size:      size,
			Response: strategies.Shape[mockapi.User]{
				ItemsPath:      "data",
				TotalItemsPath: "total_items",
			},
			Window:      strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
			NextURLPath: "next_page_url",
			ByPosition:  true,
		}
	}
}

func confLinkHeader(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &strategies.NextToken[mockapi.User]{
			Request:    strategies.Request{URL: base + mockapi.PathLinkHeader, Client: c},
			SizeParam:  strategies.Query("per_page"),
			Size:       size,
			Response:   strategies.Shape[mockapi.User]{TotalItemsHeader: "X-Total-Count"},
			Window:     strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
			LinkRel:    "next",
			ByPosition: true,
		}
	}
}

func confNextToken(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &strategies.NextToken[mockapi.User]{
			Request:    strategies.Request{URL: base + mockapi.PathNextToken, Client: c},
			Size:       size,
			Response:   strategies.Shape[mockapi.User]{ItemsPath: "data"},
			Window:     strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
			TokenPath:  "next_token",
			TokenParam: strategies.Query("next_token"),
		}
	}
}

// confPageNumberNoTotals pages the page-number endpoint reading no total.
func confPageNumberNoTotals(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		p := confPageNumber(size)(base, c).(*strategies.PageNumber[mockapi.User])
		p.Response.TotalPagesPath = ""
		return p
	}
}

// confOffsetNoTotals pages the offset endpoint reading no total.
func confOffsetNoTotals(size int) confNew {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		p := confOffset(size)(base, c).(*strategies.Offset[mockapi.User])
		p.Response.TotalItemsPath = ""
		return p
	}
}

// TestConformance runs paginatetest's suite on every built-in strategy
// over the mock API's endpoint for it.
func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		cfg  mockapi.Config
		new  confNew
		opts paginate.Options[mockapi.User]
		// liar, when set, rewrites the named total of every response.
		liar map[string]func(int) int
		// full is set for an endpoint that takes no updated_since: its
		// syncs are all full, without HighWater.
		full bool
	}{
		{
			name: "page-number",
			cfg:  mockapi.Config{Records: 95, Seed: 1},
			new:  confPageNumber(10),
			opts: paginate.Options[mockapi.User]{Concurrency: 1},
			liar: map[string]func(int) int{"total_pages": func(n int) int { return n + 3 }, "total_items": func(n int) int { return n + 30 }},
		},
		{
			name: "page-number-parallel",
			cfg:  mockapi.Config{Records: 120, Seed: 2},
			new:  confPageNumber(15),
			opts: paginate.Options[mockapi.User]{Concurrency: 4},
			liar: map[string]func(int) int{"total_pages": func(n int) int { return n - 2 }, "total_items": func(n int) int { return n - 30 }},
		},
		{
			name: "offset",
			cfg:  mockapi.Config{Records: 100, Seed: 3},
			new:  confOffset(10),
			opts: paginate.Options[mockapi.User]{Concurrency: 1},
			liar: map[string]func(int) int{"total": func(n int) int { return n - 25 }},
		},
		{
			name: "offset-parallel",
			cfg:  mockapi.Config{Records: 100, Seed: 4},
			new:  confOffset(20),
			liar: map[string]func(int) int{"total": func(n int) int { return n + 45 }},
		},
		{
			name: "offset-overlap",
			cfg:  mockapi.Config{Records: 100, Seed: 4},
			new:  confOffsetOverlap(3)(10),
			liar: map[string]func(int) int{"total": func(n int) int { return n + 45 }},
		},
		{
			name: "cursor-updated-since",
			cfg:  mockapi.Config{Records: 90, Seed: 5, TieRate: 0.3},
			new:  confCursorSince(10),
		},
		{
			name: "cursor-starting-after",
			cfg:  mockapi.Config{Records: 80, Seed: 6},
			new:  confCursorStartingAfter(10),
			full: true,
		},
		{
			name: "next-page-url",
			cfg:  mockapi.Config{Records: 75, Seed: 7},
			new:  confNextPageURL(10),
			liar: map[string]func(int) int{"total_items": func(n int) int { return n - 20 }},
		},
		{
			name: "link-header",
			cfg:  mockapi.Config{Records: 64, Seed: 8},
			new:  confLinkHeader(10),
		},
		{
			name: "next-token",
			cfg:  mockapi.Config{Records: 110, Seed: 9, TieRate: 0.3},
			new:  confNextToken(12),
		},
		// Servers without totals that answer past the end with their last
		// page, as json-server 1.x does, synced with the opt-in that takes
		// the repeat for the end. The suite's stuck-server check then
		// repeats an older page, which is a loop either way.
		{
			name: "page-number-clamped",
			cfg:  mockapi.Config{Records: 93, Seed: 10, ClampPages: true, NoTotals: true},
			new:  confPageNumberNoTotals(10),
			opts: paginate.Options[mockapi.User]{Concurrency: 1, Checks: paginate.Checks[mockapi.User]{RepeatedPageEnds: true}},
		},
		{
			name: "offset-clamped",
			cfg:  mockapi.Config{Records: 87, Seed: 11, ClampPages: true, NoTotals: true},
			new:  confOffsetNoTotals(10),
			opts: paginate.Options[mockapi.User]{Checks: paginate.Checks[mockapi.User]{RepeatedPageEnds: true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := mockapi.New(tc.cfg)
			s := paginatetest.Suite[mockapi.User]{
				Handler: srv, // an Oracle and a Mutator: syncs are checked against its records, which reruns change
				New:     tc.new,
				Key:     confKey,
				Options: tc.opts,
			}
			if !tc.full {
				// The flagship's marks: the rerun check's runs after the
				// first completed sync are incremental, and the one that
				// resumes does so across a change, the case that lost
				// records.
				s.Options.HighWater = confStamp
			}
			if tc.liar != nil {
				s.Liar = lyingTotals(srv, tc.liar)
			}
			s.Run(t)
		})
	}
}

// lyingTotals serves h's answers with the named top-level numbers of each
// JSON object body rewritten by their functions, as an API whose count
// disagrees with its data does.
func lyingTotals(h http.Handler, lie map[string]func(int) int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var obj map[string]json.RawMessage
		if rec.Code == http.StatusOK && json.Unmarshal(body, &obj) == nil {
			for name, f := range lie {
				if n, err := strconv.Atoi(string(obj[name])); err == nil {
					obj[name] = json.RawMessage(strconv.Itoa(f(n)))
				}
			}
			body, _ = json.Marshal(obj)
		}
		for k, vs := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = bytes.NewReader(body).WriteTo(w)
	})
}
