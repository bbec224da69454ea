package strategies_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// The window's end is taken once, at the start of a sync, and a sync
// resumed from a checkpoint reads the same window; the next sync takes a
// new end. Lookback moves the lower bound back.
func TestWindowEnd(t *testing.T) {
	log := new(exchangeLog)
	srv := httptest.NewServer(log)
	defer srv.Close()
	now := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	mk := func() *strategies.PageNumber[user] {
		return &strategies.PageNumber[user]{
			Request: strategies.Request{URL: srv.URL + "/items"},
			Size:    2,
			Response: strategies.Shape[user]{
				ItemsPath:      "items",
				TotalItemsPath: "total",
			},
			Window: strategies.Window[user]{
				SinceParam: strategies.Query("from"),
				UntilParam: strategies.Query("to"),
				Until:      clock,
				Lookback:   time.Hour,
			},
		}
	}
	first, err := mk().Fetch(context.Background(), paginate.Position{Since: "2024-01-01T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	// The clock moves on; a new process resumes from the checkpoint's
	// position.
	now = now.Add(48 * time.Hour)
	next := first.Next
	next.Since = "2024-01-01T00:00:00Z"
	if _, err := mk().Fetch(context.Background(), next); err != nil {
		t.Fatal(err)
	}
	// The next sync starts at the start, with a new end.
	if _, err := mk().Fetch(context.Background(), paginate.Position{Since: "2024-01-13T00:00:00Z"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /items?from=2023-12-31T23%3A00%3A00Z&to=2024-02-01T00%3A00%3A00Z&limit=2&page=1",
		"GET /items?from=2023-12-31T23%3A00%3A00Z&to=2024-02-01T00%3A00%3A00Z&limit=2&page=2",
		"GET /items?from=2024-01-12T23%3A00%3A00Z&to=2024-02-03T00%3A00%3A00Z&limit=2&page=1",
	}
	if diff := cmp.Diff(want, log.list()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// newestFirst serves records newest first, two a page, with no filter:
// the client must stop itself.
type newestFirst struct {
	marks []string // newest first
}

func (s newestFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	page := intParam(r, "page", 1)
	from := min((page-1)*2, len(s.marks))
	end := min(from+2, len(s.marks))
	var items []string
	for _, m := range s.marks[from:end] {
		items = append(items, `{"id":"`+m+`","updatedAt":"`+m+`"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"items":[`+strings.Join(items, ",")+`]}`)
}

// A newest-first API is read down to the sync's mark and no further; the
// next sync starts at the newest record of this one.
func TestNewestFirst(t *testing.T) {
	marks := []string{"2024-01-09", "2024-01-08", "2024-01-07", "2024-01-06", "2024-01-05", "2024-01-04"}
	srv, q := serve(t, newestFirst{marks})
	p := &strategies.PageNumber[user]{
		Request:  strategies.Request{URL: srv.URL + "/items"},
		Response: strategies.Shape[user]{ItemsPath: "items"},
		Window:   strategies.Window[user]{NewestFirst: userUpdatedAt},
	}
	store := new(paginate.MemoryStore)
	opts := paginate.Options[user]{Store: store, HighWater: userUpdatedAt, Concurrency: 1}

	got, res, err := runAll(t, p, opts)
	if err != nil || len(got) != 6 || res.Stop != paginate.StopEmptyPage {
		t.Fatalf("first sync: %d records, stop %v, %v; want all 6", len(got), res.Stop, err)
	}
	if res.Checkpoint.Position.Since != "2024-01-09" {
		t.Errorf("next sync since %q, want the newest record's 2024-01-09", res.Checkpoint.Position.Since)
	}
	before := len(q.list())
	got, res, err = runAll(t, p, opts)
	if err != nil || res.Stop != paginate.StopLastPage || !res.Stop.Complete() {
		t.Fatalf("second sync: %v, stop %v; want a complete sync", err, res.Stop)
	}
	if diff := cmp.Diff([]string{"2024-01-09"}, ids(got)); diff != "" {
		t.Errorf("second sync delivered (-want +got):\n%s", diff)
	}
	if n := len(q.list()) - before; n != 1 {
		t.Errorf("second sync sent %d requests, want 1: it stops at the first record below the mark", n)
	}
}

// hasMoreServer serves three pages of one record, with what says whether
// more follow written by more(page, last).
func hasMoreServer(more func(page int, last bool) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := intParam(r, "page", 1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"items":[{"id":"u`+string(rune('0'+page))+`"}]`+more(page, page == 3)+`}`)
	})
}

// The has-more rules read true, false (inverted) and "any value but null".
func TestHasMoreRules(t *testing.T) {
	tests := []struct {
		name string
		rule strategies.HasMoreRule
		more func(page int, last bool) string
	}{
		{"has_more", strategies.MoreIfTrue, func(_ int, last bool) string {
			if last {
				return `,"m":false`
			}
			return `,"m":true`
		}},
		{"done", strategies.MoreIfFalse, func(_ int, last bool) string {
			if last {
				return `,"m":true`
			}
			return `,"m":false`
		}},
		{"next page number", strategies.MoreIfNotNull, func(page int, last bool) string {
			if last {
				return `,"m":null`
			}
			return `,"m":` + string(rune('0'+page+1))
		}},
		{"next absent at the end", strategies.MoreIfNotNull, func(page int, last bool) string {
			if last {
				return ``
			}
			return `,"m":{"href":"/x"}`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, q := serve(t, hasMoreServer(tt.more))
			p := &strategies.PageNumber[user]{
				Request: strategies.Request{URL: srv.URL},
				Response: strategies.Shape[user]{
					ItemsPath:   "items",
					HasMorePath: "m",
					HasMoreIf:   tt.rule,
				},
			}
			got, res, err := runAll(t, p, paginate.Options[user]{Concurrency: 1})
			if err != nil || len(got) != 3 || res.Stop != paginate.StopHasMoreFalse || len(q.list()) != 3 {
				t.Errorf("%d records, stop %v, %d requests, %v; want 3, has_more false, 3", len(got), res.Stop, len(q.list()), err)
			}
		})
	}
}

// The Link relation to follow is configurable, and response paths take
// array indices: a next URL at links[-1].href.
func TestNextRelAndIndexedPaths(t *testing.T) {
	pages := split(users(6), 2)
	var base string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := intParam(r, "page", 1)
		if page < len(pages) {
			w.Header().Add("Link", `<`+base+`/items?page=`+string(rune('1'+page))+`>; rel="forward"`)
			w.Header().Add("Link", `<`+base+`/items?page=1>; rel="next"`) // a trap: not the relation asked for
		}
		writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"items": pages[page-1]}}})
	})
	srv, _ := serve(t, h)
	base = srv.URL
	p := &strategies.NextToken[user]{
		Request:  strategies.Request{URL: srv.URL + "/items"},
		Response: strategies.Shape[user]{ItemsPath: "data[0].items"},
		LinkRel:  "Forward",
	}
	got, res, err := runAll(t, p, paginate.Options[user]{})
	if err != nil || res.Stop != paginate.StopNoNextToken {
		t.Fatalf("Link rel: %v, stop %v", err, res.Stop)
	}
	if diff := cmp.Diff(ids(users(6)), ids(got)); diff != "" {
		t.Errorf("Link rel (-want +got):\n%s", diff)
	}

	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := intParam(r, "page", 1)
		links := []any{map[string]any{"rel": "self", "href": "/items?page=" + string(rune('0'+page))}}
		if page < len(pages) {
			links = append(links, map[string]any{"rel": "next", "href": "/items?page=" + string(rune('1'+page))})
		}
		writeJSON(w, 200, map[string]any{"records": pages[page-1], "links": links})
	})
	srv2, _ := serve(t, h2)
	p2 := &strategies.NextToken[user]{
		Request:     strategies.Request{URL: srv2.URL + "/items"},
		Response:    strategies.Shape[user]{ItemsPath: "records"},
		NextURLPath: "links[-1].href",
	}
	got, res, err = runAll(t, p2, paginate.Options[user]{})
	// The last page's only link is to itself: the runner stops the loop.
	if len(got) != 6 || res.Stop != paginate.StopLoopDetected {
		t.Errorf("links[-1].href: %d records, stop %v, %v; want 6 and a loop on the last page's self link", len(got), res.Stop, err)
	}
}

// The last page of a sync that read its whole window vouches for the
// window's end (Page.HighWater), whichever strategy reads it and wherever
// the bounds go; a sync cut short, or a position that does not carry the
// end its first request sent, vouches for nothing.
func TestWindowCloses(t *testing.T) {
	const end = "2024-02-01T00:00:00Z"
	paging := func(firstOnly bool) shared {
		pg := placedWindow(inQuery)
		pg.Response.HasMorePath, pg.Window.BoundsOnFirstOnly = "more", firstOnly
		return pg
	}
	tests := []struct {
		name string
		p    func(pg shared) paginate.Paginator[user]
		// strip, when set, drops the window's end from the second
		// position, as a checkpoint saved without one has none.
		strip func(paginate.Position) paginate.Position
		want  [2]string // the two pages' HighWater
		// asIs says the second request is a next URL, sent as it is.
		asIs bool
	}{
		{"page number", func(pg shared) paginate.Paginator[user] {
			return configure(&strategies.PageNumber[user]{}, strategies.Request{}, pg)
		}, nil, [2]string{"", end}, false},
		{"offset", func(pg shared) paginate.Paginator[user] {
			return configure(&strategies.Offset[user]{}, strategies.Request{}, pg)
		}, nil, [2]string{"", end}, false},
		{"cursor", func(pg shared) paginate.Paginator[user] {
			return configure(&strategies.Cursor[user]{CursorParam: strategies.Query("after"), Value: userKey}, strategies.Request{}, pg)
		}, nil, [2]string{"", end}, false},
		{"next token", func(pg shared) paginate.Paginator[user] {
			return configure(&strategies.NextToken[user]{TokenPath: "next", TokenParam: strategies.Query("pos")}, strategies.Request{}, pg)
		}, nil, [2]string{"", end}, false},
		{"next URL", func(pg shared) paginate.Paginator[user] {
			return configure(&strategies.NextToken[user]{NextURLPath: "next"}, strategies.Request{}, pg)
		}, nil, [2]string{"", end}, true},
		{"depth limit", func(pg shared) paginate.Paginator[user] {
			return configure(&strategies.PageNumber[user]{MaxPage: 1}, strategies.Request{}, pg)
		}, nil, [2]string{"", ""}, false},
		{"a position without the end", func(pg shared) paginate.Paginator[user] {
			return configure(&strategies.PageNumber[user]{}, strategies.Request{}, pg)
		}, func(p paginate.Position) paginate.Position { p.Token = ""; return p }, [2]string{"", ""}, false},
	}
	for _, tt := range tests {
		for _, firstOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bounds on first only %v", tt.name, firstOnly), func(t *testing.T) {
				log := new(exchangeLog)
				srv := httptest.NewServer(log)
				defer srv.Close()
				pg := paging(firstOnly)
				p := tt.p(pg)
				setURL(p, srv.URL+"/items")
				var got [2]string
				pos := paginate.Position{Since: sinceMark}
				for i := range 2 {
					page, err := p.Fetch(context.Background(), pos)
					if err != nil {
						t.Fatal(err)
					}
					got[i] = page.HighWater
					if !page.More {
						break
					}
					pos = page.Next
					pos.Since = sinceMark // as the runner does
					if tt.strip != nil {
						pos = tt.strip(pos)
					}
				}
				if got != tt.want {
					t.Errorf("pages' HighWater %q, want %q", got, tt.want)
				}
				reqs := log.list()
				if !strings.Contains(reqs[0], "until=2024-02-01") {
					t.Errorf("first request %q sends no end", reqs[0])
				}
				if len(reqs) > 1 && !tt.asIs && strings.Contains(reqs[1], "until=") == firstOnly {
					t.Errorf("second request %q: bounds on the first only %v", reqs[1], firstOnly)
				}
			})
		}
	}
}

// setURL sets the URL of one of the four strategies.
func setURL(p paginate.Paginator[user], u string) {
	switch p := p.(type) {
	case *strategies.PageNumber[user]:
		p.Request.URL = u
	case *strategies.Offset[user]:
		p.Request.URL = u
	case *strategies.Cursor[user]:
		p.Request.URL = u
	case *strategies.NextToken[user]:
		p.Request.URL = u
	}
}
