package strategies_test

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

func TestPageNumber(t *testing.T) {
	all := users(120)
	same := func(n int) int { return n }
	tests := []struct {
		name      string
		api       pageAPI
		setup     func(p *strategies.PageNumber[user])
		key       bool // give the runner a Key, for loop detection by content
		wantItems []user
		wantStop  paginate.StopReason
		wantPages []string // the page parameter of each request
		wantErr   error
	}{
		{name: "normal, total pages", api: pageAPI{users: all, totalPages: same},
			wantItems: all, wantStop: paginate.StopTotalReached, wantPages: []string{"1", "2", "3"}},
		{name: "normal, total items", api: pageAPI{users: all, totalItems: same},
			wantItems: all, wantStop: paginate.StopTotalReached, wantPages: []string{"1", "2", "3"}},
		{name: "first page empty", api: pageAPI{users: nil, totalPages: same},
			wantItems: nil, wantStop: paginate.StopEmptyPage, wantPages: []string{"1"}},
		{name: "last page short, no totals", api: pageAPI{users: all},
			wantItems: all, wantStop: paginate.StopEmptyPage, wantPages: []string{"1", "2", "3", "4"}},
		{name: "last page short ends when told", api: pageAPI{users: all},
			setup:     func(p *strategies.PageNumber[user]) { p.Response.ShortPageEnds = true },
			wantItems: all, wantStop: paginate.StopShortPage, wantPages: []string{"1", "2", "3"}},
		{name: "total pages lies larger", api: pageAPI{users: all, totalPages: func(int) int { return 10 }},
			wantItems: all, wantStop: paginate.StopTotalReached, wantPages: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}},
		{name: "total pages lies larger, an empty page ends when told", api: pageAPI{users: all, totalPages: func(int) int { return 10 }},
			setup:     func(p *strategies.PageNumber[user]) { p.Response.EmptyPageEnds = true },
			wantItems: all, wantStop: paginate.StopEmptyPage, wantPages: []string{"1", "2", "3", "4"}},
		{name: "an empty filtered page within the total pages", api: pageAPI{users: all, totalPages: same, hidden: func(p int) bool { return p == 2 }},
			wantItems: append(all[:50:50], all[100:]...), wantStop: paginate.StopTotalReached, wantPages: []string{"1", "2", "3"}},
		{name: "an empty filtered page within the pages the total items fill", api: pageAPI{users: all, totalItems: same, hidden: func(p int) bool { return p == 2 }},
			wantItems: append(all[:50:50], all[100:]...), wantStop: paginate.StopEmptyPage, wantPages: []string{"1", "2", "3", "4"}},
		{name: "an empty filtered page ends when told", api: pageAPI{users: all, totalPages: same, hidden: func(p int) bool { return p == 2 }},
			setup:     func(p *strategies.PageNumber[user]) { p.Response.EmptyPageEnds = true },
			wantItems: all[:50], wantStop: paginate.StopEmptyPage, wantPages: []string{"1", "2"}},
		{name: "total pages lies smaller", api: pageAPI{users: all, totalPages: func(int) int { return 2 }},
			wantItems: all[:100], wantStop: paginate.StopTotalReached, wantPages: []string{"1", "2"}},
		{name: "total items lies smaller", api: pageAPI{users: all, totalItems: func(int) int { return 70 }},
			wantItems: all[:100], wantStop: paginate.StopTotalReached, wantPages: []string{"1", "2"}},
		{name: "page size capped by the server", api: pageAPI{users: all, cap: 25},
			setup:     func(p *strategies.PageNumber[user]) { p.Size = 100 },
			wantItems: all, wantStop: paginate.StopEmptyPage, wantPages: []string{"1", "2", "3", "4", "5", "6"}},
		{name: "capped, short pages do not end it", api: pageAPI{users: all, cap: 25},
			setup:     func(p *strategies.PageNumber[user]) { p.Size = 100; p.Response.ShortPageEnds = true },
			wantItems: all[:25], wantStop: paginate.StopShortPage, wantPages: []string{"1"}},
		{name: "out-of-range page serves the last page again", api: pageAPI{users: all, lastAgain: true}, key: true,
			wantItems: all, wantStop: paginate.StopLoopDetected, wantPages: []string{"1", "2", "3", "4"}, wantErr: paginate.ErrLoop},
		{name: "out-of-range page says it is the last page", api: pageAPI{users: all, lastAgain: true, echoPage: true},
			setup:     func(p *strategies.PageNumber[user]) { p.PagePath = "page" },
			wantItems: all, wantStop: paginate.StopError, wantPages: []string{"1", "2", "3", "4"}, wantErr: strategies.ErrPageMismatch},
		{name: "has_more false", api: pageAPI{users: all, hasMore: true},
			setup:     func(p *strategies.PageNumber[user]) { p.Response.HasMorePath = "has_more" },
			wantItems: all, wantStop: paginate.StopHasMoreFalse, wantPages: []string{"1", "2", "3"}},
		{name: "max page", api: pageAPI{users: all},
			setup:     func(p *strategies.PageNumber[user]) { p.MaxPage = 2 },
			wantItems: all[:100], wantStop: paginate.StopDepthLimit, wantPages: []string{"1", "2"}},
		{name: "zero-based", api: pageAPI{users: all, zeroBased: true, totalPages: same, echoPage: true},
			setup:     func(p *strategies.PageNumber[user]) { p.ZeroBased = true; p.PagePath = "page" },
			wantItems: all, wantStop: paginate.StopTotalReached, wantPages: []string{"0", "1", "2"}},
		{name: "bare array, X-Total-Count", api: pageAPI{users: all, array: true},
			setup: func(p *strategies.PageNumber[user]) {
				p.Response.ItemsPath, p.Response.TotalPagesPath, p.Response.TotalItemsPath = "", "", ""
				p.Response.TotalItemsHeader = "X-Total-Count"
			},
			wantItems: all, wantStop: paginate.StopTotalReached, wantPages: []string{"1", "2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, q := serve(t, &tt.api)
			p := &strategies.PageNumber[user]{
				Request:   strategies.Request{URL: srv.URL + "/users"},
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response: strategies.Shape[user]{
					ItemsPath:      "data",
					TotalPagesPath: "total_pages",
					TotalItemsPath: "total_items",
				},
			}
			if tt.setup != nil {
				tt.setup(p)
			}
			opts := paginate.Options[user]{Concurrency: 1}
			if tt.key {
				opts.Key = userKey
			}
			got, res, err := runAll(t, p, opts)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(ids(tt.wantItems), ids(got)); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
			if res.Stop != tt.wantStop {
				t.Errorf("stop = %v, want %v", res.Stop, tt.wantStop)
			}
			var pages []string
			for _, raw := range q.list() {
				v, _ := url.ParseQuery(raw)
				pages = append(pages, v.Get("page"))
			}
			if diff := cmp.Diff(tt.wantPages, pages); diff != "" {
				t.Errorf("pages requested mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// seedAPI checks requests as the seed's mock API does: unknown parameters,
// a page below 1 or a per_page outside 1..50 are a 400.
type seedAPI struct{ pageAPI }

func (a *seedAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k := range r.URL.Query() {
		switch k {
		case "order_by", "order_type", "per_page", "page", "updated_since":
		default:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Unexpected query parameters: " + k})
			return
		}
	}
	if n := intParam(r, "per_page", 10); n < 1 || n > 50 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "per_page"})
		return
	}
	a.pageAPI.ServeHTTP(w, r)
}

// seedPaginator is configured as the seed connector's requests are.
func seedPaginator(base string) *strategies.PageNumber[user] {
	return &strategies.PageNumber[user]{
		Request: strategies.Request{
			URL:   base + "/pagination/page_number",
			Query: url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		SizeParam: strategies.Query("per_page"),
		Size:      50,
		Response: strategies.Shape[user]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
			TotalItemsPath: "total_items",
		},
		Window: strategies.Window[user]{
			SinceParam:   strategies.Query("updated_since"),
			SinceDefault: "0001-01-01T00:00:00Z",
		},
		OmitFirstPage: true,
		PagePath:      "page",
	}
}

func TestPageNumberSeedRequests(t *testing.T) {
	all := users(120)
	srv, q := serve(t, &seedAPI{pageAPI{users: all, totalPages: func(n int) int { return n }, totalItems: func(n int) int { return n }, echoPage: true}})
	p := seedPaginator(srv.URL)
	store := new(paginate.MemoryStore)
	opts := paginate.Options[user]{Store: store, Stream: "user", HighWater: userUpdatedAt, Concurrency: 1}
	got, res, err := runAll(t, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 120 || res.Stop != paginate.StopTotalReached {
		t.Fatalf("got %d items, stop %v; want 120, total reached", len(got), res.Stop)
	}
	const common = "order_by=updatedAt&order_type=asc&updated_since="
	want := []string{
		common + "0001-01-01T00%3A00%3A00Z&per_page=50",
		common + "0001-01-01T00%3A00%3A00Z&per_page=50&page=2",
		common + "0001-01-01T00%3A00%3A00Z&per_page=50&page=3",
	}
	if diff := cmp.Diff(want, q.list()); diff != "" {
		t.Errorf("requests mismatch (-seed +ours):\n%s", diff)
	}

	// The next sync is incremental from the last updatedAt, from page 1.
	if _, _, err := runAll(t, p, opts); err != nil {
		t.Fatal(err)
	}
	last := q.list()[3:]
	wantNext := []string{common + "2024-01-01T01%3A59%3A00Z&per_page=50"}
	if diff := cmp.Diff(wantNext, last); diff != "" {
		t.Errorf("incremental requests mismatch (-want +got):\n%s", diff)
	}
}

func TestPageNumberPlan(t *testing.T) {
	p := &strategies.PageNumber[user]{
		Request: strategies.Request{URL: "http://127.0.0.1:1/x"},
	}
	// pages returns the positions of pages from..to of size items, the
	// first of them after before records.
	pages := func(from, to, size, before int64) []paginate.Position {
		var ps []paginate.Position
		for n := from; n <= to; n++ {
			ps = append(ps, paginate.Position{Page: n, Offset: before + (n-from)*size})
		}
		return ps
	}
	next := func(page, offset int64) paginate.Position { return paginate.Position{Page: page, Offset: offset} }
	tests := []struct {
		name  string
		p     *strategies.PageNumber[user]
		pos   paginate.Position
		first paginate.PageInfo
		want  []paginate.Position
	}{
		{"total pages", p, paginate.Position{}, paginate.PageInfo{Items: 50, More: true, Next: next(2, 50), TotalPages: 4}, pages(2, 4, 50, 50)},
		{"total items, capped page size", p, paginate.Position{}, paginate.PageInfo{Items: 25, More: true, Next: next(2, 25), TotalItems: 120}, pages(2, 5, 25, 25)},
		{"total items, resumed", p, next(3, 100), paginate.PageInfo{Items: 50, More: true, Next: next(4, 150), TotalItems: 260}, pages(4, 6, 50, 150)},
		{"total pages, resumed", p, next(3, 100), paginate.PageInfo{Items: 50, More: true, Next: next(4, 150), TotalPages: 5}, pages(4, 5, 50, 150)},
		{"no total", p, paginate.Position{}, paginate.PageInfo{Items: 50, More: true, Next: next(2, 50)}, nil},
		{"last page", p, paginate.Position{}, paginate.PageInfo{Items: 50, TotalPages: 1}, nil},
		{"huge total, planned lazily", p, paginate.Position{}, paginate.PageInfo{Items: 1, More: true, Next: next(2, 1), TotalPages: 1 << 62}, pages(2, 5, 1, 1)},
		{"max page", &strategies.PageNumber[user]{
			Request: p.Request,
			MaxPage: 3,
		}, paginate.Position{},
			paginate.PageInfo{Items: 50, More: true, Next: next(2, 50), TotalPages: 9}, pages(2, 3, 50, 50)},
		{"zero-based", &strategies.PageNumber[user]{
			Request:   p.Request,
			ZeroBased: true,
		}, paginate.Position{},
			paginate.PageInfo{Items: 50, More: true, Next: next(1, 50), TotalPages: 3}, pages(1, 2, 50, 50)},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, collectPlan(tt.p.Plan(tt.pos, tt.first), 4)); diff != "" {
			t.Errorf("%s: Plan mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestPageNumberPlanMatchesFetch checks that every planned position is the
// Next that Fetch reports for the page before it.
func TestPageNumberPlanMatchesFetch(t *testing.T) {
	srv, _ := serve(t, &pageAPI{users: users(120), cap: 25, totalItems: func(n int) int { return n }})
	p := &strategies.PageNumber[user]{
		Request:   strategies.Request{URL: srv.URL},
		Size:      100,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[user]{
			ItemsPath:      "data",
			TotalItemsPath: "total_items",
		},
	}
	ctx := context.Background()
	first, err := p.Fetch(ctx, paginate.Position{})
	if err != nil {
		t.Fatal(err)
	}
	plan := collectPlan(p.Plan(paginate.Position{}, paginate.PageInfo{Items: len(first.Items), More: first.More, Next: first.Next, TotalItems: first.TotalItems}))
	var walked []paginate.Position
	for pos := first.Next; ; {
		walked = append(walked, pos)
		page, err := p.Fetch(ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		if !page.More {
			break
		}
		pos = page.Next
	}
	if diff := cmp.Diff(walked, plan); diff != "" {
		t.Errorf("plan differs from the pages Fetch walks (-walked +plan):\n%s", diff)
	}
}

func TestPageNumberBadPosition(t *testing.T) {
	p := &strategies.PageNumber[user]{
		Request: strategies.Request{URL: "http://127.0.0.1:1/x"},
	}
	for _, pos := range []paginate.Position{{Offset: -3}, {Token: "x"}, {Page: -1}} {
		_, err := p.Fetch(context.Background(), pos)
		if !errors.Is(err, strategies.ErrBadPosition) || !paginate.IsPermanent(err) {
			t.Errorf("Fetch(%v) error = %v, want a permanent ErrBadPosition", pos, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	fetchers := map[string]func() error{
		"no URL": func() error {
			_, err := (&strategies.PageNumber[user]{}).Fetch(ctx, paginate.Position{})
			return err
		},
		"relative URL": func() error {
			_, err := (&strategies.Offset[user]{
				Request: strategies.Request{URL: "/x"},
			}).Fetch(ctx, paginate.Position{})
			return err
		},
		"bad path": func() error {
			_, err := (&strategies.PageNumber[user]{
				Request:  strategies.Request{URL: "http://127.0.0.1:1"},
				Response: strategies.Shape[user]{ItemsPath: "a..b"},
			}).Fetch(ctx, paginate.Position{})
			return err
		},
		"cursor without value": func() error {
			_, err := (&strategies.Cursor[user]{
				Request:     strategies.Request{URL: "http://127.0.0.1:1"},
				CursorParam: strategies.Query("after"),
			}).Fetch(ctx, paginate.Position{})
			return err
		},
		"inclusive cursor without size": func() error {
			_, err := (&strategies.Cursor[user]{
				Request:     strategies.Request{URL: "http://127.0.0.1:1"},
				CursorParam: strategies.Query("since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
			}).Fetch(ctx, paginate.Position{})
			return err
		},
		"next token without a source": func() error {
			_, err := (&strategies.NextToken[user]{
				Request: strategies.Request{URL: "http://127.0.0.1:1"},
			}).Fetch(ctx, paginate.Position{})
			return err
		},
		"token without placement": func() error {
			_, err := (&strategies.NextToken[user]{
				Request:   strategies.Request{URL: "http://127.0.0.1:1"},
				TokenPath: "next",
			}).Fetch(ctx, paginate.Position{})
			return err
		},
		"two sources": func() error {
			_, err := (&strategies.NextToken[user]{
				Request:     strategies.Request{URL: "http://127.0.0.1:1"},
				NextURLPath: "next",
				LinkRel:     "next",
			}).Fetch(ctx, paginate.Position{})
			return err
		},
		"URL with placement": func() error {
			_, err := (&strategies.NextToken[user]{
				Request:    strategies.Request{URL: "http://127.0.0.1:1"},
				LinkRel:    "next",
				TokenParam: strategies.Query("t"),
			}).Fetch(ctx, paginate.Position{})
			return err
		},
	}
	for name, fetch := range fetchers {
		if err := fetch(); !errors.Is(err, strategies.ErrConfig) || !paginate.IsPermanent(err) {
			t.Errorf("%s: error = %v, want a permanent ErrConfig", name, err)
		}
	}
}

// collectPlan collects a plan, up to limit positions when given, as the
// table tests, which keep their plans short (a plan may be endless); a nil
// plan (none) stays nil.
func collectPlan(plan iter.Seq[paginate.Position], limit ...int) []paginate.Position {
	if plan == nil {
		return nil
	}
	var out []paginate.Position
	for pos := range plan {
		if len(limit) > 0 && len(out) == limit[0] {
			break
		}
		out = append(out, pos)
	}
	return out
}
