package mockapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestJSONServer checks PathJSONServer against json-server 0.17's paging:
// bare arrays, X-Total-Count, absolute Link URLs, [] past the end.
func TestJSONServer(t *testing.T) {
	s := New(Config{Records: 25, Seed: 3})
	all := s.Records()
	mark := all[12].UpdatedAt
	link := func(q string) string { return "<http://example.com" + PathJSONServer + "?" + q + ">" }
	tests := []struct {
		query     string
		want      []User
		total     string // X-Total-Count; empty: absent
		wantLinks string
	}{
		{query: "", want: all},
		{query: "_page=2&_limit=10", want: all[10:20], total: "25",
			wantLinks: link("_limit=10&_page=1") + `; rel="first", ` + link("_limit=10&_page=1") + `; rel="prev", ` +
				link("_limit=10&_page=3") + `; rel="next", ` + link("_limit=10&_page=3") + `; rel="last"`},
		{query: "_page=3&_limit=10", want: all[20:], total: "25",
			wantLinks: link("_limit=10&_page=1") + `; rel="first", ` + link("_limit=10&_page=2") + `; rel="prev", ` + link("_limit=10&_page=3") + `; rel="last"`},
		{query: "_page=4&_limit=10", want: []User{}, total: "25"},
		{query: "_page=1&_limit=50", want: all, total: "25"},
		{query: "_page=0", want: all[:10], total: "25",
			wantLinks: link("_page=1") + `; rel="first", ` + link("_page=2") + `; rel="next", ` + link("_page=3") + `; rel="last"`},
		{query: "_start=5&_limit=3", want: all[5:8], total: "25"},
		{query: "_start=5&_end=8", want: all[5:8], total: "25"},
		{query: "_start=30&_limit=3", want: []User{}, total: "25"},
		{query: "_sort=createdAt&_order=desc", want: reversed(byCreated(all))},
		{query: "updatedAt_gte=" + mark.Format(time.RFC3339) + "&_start=0&_limit=50", want: since(all, mark), total: fmt.Sprint(len(since(all, mark)))},
	}
	for _, tt := range tests {
		w := mustGet(t, s, "http://example.com"+PathJSONServer+"?"+tt.query)
		if diff := cmp.Diff(tt.want, decode[[]User](t, w.Body.Bytes())); diff != "" {
			t.Errorf("?%s: records (-want +got):\n%s", tt.query, diff)
		}
		if got := w.Header().Get("X-Total-Count"); got != tt.total {
			t.Errorf("?%s: X-Total-Count %q, want %q", tt.query, got, tt.total)
		}
		if diff := cmp.Diff(tt.wantLinks, w.Header().Get("Link")); diff != "" {
			t.Errorf("?%s: Link (-want +got):\n%s", tt.query, diff)
		}
	}
	for _, q := range []string{"page=1", "_sort=name", "_sort=-updatedAt", "_order=up", "_limit=0", "_limit=51", "_start=-1", "_page=x", "updatedAt_gte=2024-01-01"} {
		if w := get(t, s, PathJSONServer+"?"+q); w.Code != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400", q, w.Code)
		}
	}
}

// v1Resp is json-server 1.x's page.
type v1Resp struct {
	First int    `json:"first"`
	Prev  *int   `json:"prev"`
	Next  *int   `json:"next"`
	Last  int    `json:"last"`
	Pages int    `json:"pages"`
	Items int    `json:"items"`
	Data  []User `json:"data"`
}

// TestJSONServerV1 checks PathJSONServerV1 against json-server 1.x: numeric
// next and prev, and pages past either end clamped.
func TestJSONServerV1(t *testing.T) {
	s := New(Config{Records: 25, Seed: 3})
	all := s.Records()
	n := func(i int) *int { return &i }
	page3 := v1Resp{First: 1, Prev: n(2), Last: 3, Pages: 3, Items: 25, Data: all[20:]}
	tests := []struct {
		query string
		want  v1Resp
	}{
		{"_page=1", v1Resp{First: 1, Next: n(2), Last: 3, Pages: 3, Items: 25, Data: all[:10]}},
		{"_page=2&_per_page=10", v1Resp{First: 1, Prev: n(1), Next: n(3), Last: 3, Pages: 3, Items: 25, Data: all[10:20]}},
		{"_page=3", page3},
		{"_page=9", page3},
		{"_page=-2&_per_page=25", v1Resp{First: 1, Last: 1, Pages: 1, Items: 25, Data: all}},
		{"_page=1&_sort=-createdAt&_per_page=5", v1Resp{First: 1, Next: n(2), Last: 5, Pages: 5, Items: 25, Data: reversed(byCreated(all))[:5]}},
		{"_page=2&updatedAt:gte=2999-01-01T00:00:00Z", v1Resp{First: 1, Data: []User{}}},
	}
	for _, tt := range tests {
		got := decode[v1Resp](t, mustGet(t, s, PathJSONServerV1+"?"+tt.query).Body.Bytes())
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("?%s (-want +got):\n%s", tt.query, diff)
		}
	}
	if diff := cmp.Diff(all, decode[[]User](t, mustGet(t, s, PathJSONServerV1).Body.Bytes())); diff != "" {
		t.Errorf("without _page, want every record as a bare array (-want +got):\n%s", diff)
	}
	for _, q := range []string{"_limit=5", "_sort=name", "_page=x", "_per_page=0", "updatedAt:gte=now"} {
		if w := get(t, s, PathJSONServerV1+"?"+q); w.Code != http.StatusBadRequest {
			t.Errorf("?%s: status %d, want 400", q, w.Code)
		}
	}
}

// TestLinkRelative: the link_header listing, with relative Link URLs.
func TestLinkRelative(t *testing.T) {
	s := New(Config{Records: 25, Seed: 3})
	const q = "?order_by=updatedAt&order_type=asc&page=2&per_page=10"
	abs := mustGet(t, s, "http://example.com"+PathLinkHeader+q)
	rel := mustGet(t, s, "http://example.com"+PathLinkRelative+q)
	if diff := cmp.Diff(abs.Body.String(), rel.Body.String()); diff != "" {
		t.Errorf("body differs from link_header's (-link_header +link_relative):\n%s", diff)
	}
	want := strings.ReplaceAll(strings.ReplaceAll(abs.Header().Get("Link"), "http://example.com", ""), PathLinkHeader, PathLinkRelative)
	if got := rel.Header().Get("Link"); got != want || !strings.Contains(got, `</pagination/link_relative?order_by=updatedAt&order_type=asc&page=3&per_page=10>; rel="next"`) {
		t.Errorf("Link %q, want %q", got, want)
	}
}

// TestIDs: a page of ids is a JSON array of strings.
func TestIDs(t *testing.T) {
	s := New(Config{Records: 25, Seed: 3})
	all := s.Records()
	type idsResp struct {
		Data       []string `json:"data"`
		Page       int      `json:"page"`
		TotalPages int      `json:"total_pages"`
	}
	for _, tt := range []struct {
		query string
		want  idsResp
	}{
		{"?per_page=10&page=3", idsResp{Data: []string{all[20].ID, all[21].ID, all[22].ID, all[23].ID, all[24].ID}, Page: 3, TotalPages: 3}},
		{"?per_page=2&order_type=desc", idsResp{Data: []string{all[24].ID, all[23].ID}, Page: 1, TotalPages: 13}},
		{"?page=4&per_page=10", idsResp{Data: []string{}, Page: 4, TotalPages: 3}},
	} {
		got := decode[idsResp](t, mustGet(t, s, PathIDs+tt.query).Body.Bytes())
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
	}
}
