package mockapi

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testConfig is a small dataset with a tie larger than a keyset page that
// straddles page boundaries, besides the random ties.
var testConfig = Config{Records: 237, Seed: 7, TieGroups: []TieGroup{{At: 40, Size: 70}, {At: 180, Size: 3}}}

func TestKeyOrder(t *testing.T) {
	s := New(Config{Seed: 1})
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{"/pagination/page_number", []string{"data", "page", "page_size", "total_pages", "total_items"}},
		{"/pagination/offset", []string{"data", "offset", "limit", "total"}},
		{"/pagination/next_page_url", []string{"data", "total_items", "page", "per_page", "next_page_url"}},
		{"/pagination/keyset", []string{"data", "scroll_param"}},
		{"/pagination/next_token", []string{"data", "next_token"}},
		{"/pagination/starting_after", []string{"object", "data", "has_more", "url"}},
		{"/pagination/page_number?page=0", []string{"error"}},
	} {
		w := get(t, s, tc.target)
		if diff := cmp.Diff(tc.want, topKeys(t, w.Body.Bytes())); diff != "" {
			t.Errorf("%s keys (-want +got):\n%s", tc.target, diff)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s Content-Type %q", tc.target, ct)
		}
		if cl := w.Header().Get("Content-Length"); cl != strconv.Itoa(w.Body.Len()) {
			t.Errorf("%s Content-Length %s for a body of %d", tc.target, cl, w.Body.Len())
		}
	}
}

// TestRecordKeyOrder checks the keys of a record and that the bytes served
// are what encoding/json makes of the same User.
func TestRecordKeyOrder(t *testing.T) {
	s := New(Config{Seed: 1})
	body := mustGet(t, s, "/pagination/link_header?per_page=50").Body.Bytes()
	raw := decode[[]jsonRaw](t, body)
	users := s.Records()[:50]
	for i, r := range raw {
		want := []string{"id", "name", "email", "address", "company", "job", "createdAt", "updatedAt"}
		if diff := cmp.Diff(want, topKeys(t, r)); diff != "" {
			t.Fatalf("record %d keys (-want +got):\n%s", i, diff)
		}
		enc := mustMarshal(t, users[i])
		if string(r) != string(enc) {
			t.Fatalf("record %d served as\n%s\nencoding/json makes\n%s", i, r, enc)
		}
	}
}

func TestDefaults(t *testing.T) {
	s := New(Config{Seed: 1})
	all := s.Records()
	pn := decode[pageNumberResp](t, mustGet(t, s, "/pagination/page_number").Body.Bytes())
	want := pageNumberResp{Data: all[:10], Page: 1, PageSize: 10, TotalPages: 20, TotalItems: 200}
	if diff := cmp.Diff(want, pn); diff != "" {
		t.Errorf("page_number defaults (-want +got):\n%s", diff)
	}
	off := decode[offsetResp](t, mustGet(t, s, "/pagination/offset").Body.Bytes())
	if diff := cmp.Diff(offsetResp{Data: all[:10], Limit: 10, Total: 200}, off); diff != "" {
		t.Errorf("offset defaults (-want +got):\n%s", diff)
	}
	ks := decode[keysetResp](t, mustGet(t, s, "/pagination/keyset").Body.Bytes())
	if diff := cmp.Diff(all[:50], ks.Data); diff != "" {
		t.Errorf("keyset first page (-want +got):\n%s", diff)
	}
}

// walkPageNumber follows page=1, 2, ... of a page-numbered endpoint until
// page >= total_pages, checking each page's bookkeeping.
func walkPageNumber(t *testing.T, h http.Handler, query string, perPage int) []User {
	t.Helper()
	var got []User
	for page := 1; ; page++ {
		target := fmt.Sprintf("/pagination/page_number?%s&per_page=%d&page=%d", query, perPage, page)
		r := decode[pageNumberResp](t, mustGet(t, h, target).Body.Bytes())
		if r.Page != page || r.PageSize != perPage || r.TotalPages != (r.TotalItems+perPage-1)/perPage {
			t.Fatalf("%s: page %d, page_size %d, total_pages %d, total_items %d", target, r.Page, r.PageSize, r.TotalPages, r.TotalItems)
		}
		got = append(got, r.Data...)
		if page >= r.TotalPages {
			return got
		}
	}
}

func TestPageNumberWalk(t *testing.T) {
	s := New(testConfig)
	all := s.Records()
	mid := all[100].UpdatedAt
	midS := mid.Format("2006-01-02T15:04:05Z")
	for _, tc := range []struct {
		query   string
		perPage int
		want    []User
	}{
		{"order_by=updatedAt&order_type=asc", 50, all},
		{"order_by=updatedAt&order_type=desc", 50, reversed(all)},
		{"order_by=createdAt&order_type=asc", 7, byCreated(all)},
		{"order_by=createdAt&order_type=desc", 1, reversed(byCreated(all))},
		{"updated_since=0001-01-01T00:00:00Z", 50, all},
		{"updated_since=" + midS, 13, since(all, mid)},
		{"updated_since=" + midS + "&order_type=desc", 50, reversed(since(all, mid))},
		{"updated_since=" + midS + "&order_by=createdAt", 10, byCreated(since(all, mid))},
		{"updated_since=" + midS + "&order_by=createdAt&order_type=desc", 9, reversed(byCreated(since(all, mid)))},
	} {
		got := walkPageNumber(t, s, tc.query, tc.perPage)
		if diff := cmp.Diff(ids(tc.want), ids(got)); diff != "" {
			t.Errorf("%s per_page=%d (-want +got):\n%s", tc.query, tc.perPage, diff)
		}
	}
}

func TestPageNumberEdges(t *testing.T) {
	s := New(Config{Seed: 1})
	past := decode[pageNumberResp](t, mustGet(t, s, "/pagination/page_number?per_page=50&page=5").Body.Bytes())
	if diff := cmp.Diff(pageNumberResp{Data: []User{}, Page: 5, PageSize: 50, TotalPages: 4, TotalItems: 200}, past); diff != "" {
		t.Errorf("page past the end (-want +got):\n%s", diff)
	}
	huge := decode[pageNumberResp](t, mustGet(t, s, "/pagination/page_number?page="+strconv.Itoa(1<<62)).Body.Bytes())
	if len(huge.Data) != 0 {
		t.Errorf("page 2^62 served %d records", len(huge.Data))
	}
	none := decode[pageNumberResp](t, mustGet(t, s, "/pagination/page_number?updated_since=2099-01-01T00:00:00Z").Body.Bytes())
	if diff := cmp.Diff(pageNumberResp{Data: []User{}, Page: 1, PageSize: 10}, none); diff != "" {
		t.Errorf("no match (-want +got):\n%s", diff)
	}
}

// TestUpdatedSinceInclusive asks for records since the updatedAt of a tie:
// every record of the tie comes back.
func TestUpdatedSinceInclusive(t *testing.T) {
	s := New(testConfig)
	all := s.Records()
	tie := all[40].UpdatedAt
	r := decode[offsetResp](t, mustGet(t, s, "/pagination/offset?limit=50&updated_since="+tie.Format("2006-01-02T15:04:05Z")).Body.Bytes())
	if r.Total != len(all)-40 {
		t.Errorf("total %d since %v, want %d", r.Total, tie, len(all)-40)
	}
	if diff := cmp.Diff(ids(all[40:90]), ids(r.Data)); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

func TestOffsetWalk(t *testing.T) {
	s := New(testConfig)
	all := s.Records()
	for _, tc := range []struct {
		query string
		limit int
		want  []User
	}{
		{"", 50, all},
		{"order_type=desc", 33, reversed(all)},
		{"order_by=createdAt", 50, byCreated(all)},
	} {
		var got []User
		for off := 0; ; {
			target := fmt.Sprintf("/pagination/offset?%s&limit=%d&offset=%d", tc.query, tc.limit, off)
			r := decode[offsetResp](t, mustGet(t, s, target).Body.Bytes())
			if r.Offset != off || r.Limit != tc.limit || r.Total != len(all) {
				t.Fatalf("%s: offset %d, limit %d, total %d", target, r.Offset, r.Limit, r.Total)
			}
			if len(r.Data) == 0 {
				break
			}
			got = append(got, r.Data...)
			off += len(r.Data)
		}
		if diff := cmp.Diff(ids(tc.want), ids(got)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.query, diff)
		}
	}
}

func TestNextPageURLWalk(t *testing.T) {
	s := New(testConfig)
	srv := httptest.NewServer(s)
	defer srv.Close()
	all := s.Records()
	mid := all[60].UpdatedAt.Format("2006-01-02T15:04:05Z")
	for _, tc := range []struct {
		query string
		want  []User
	}{
		{"per_page=50", all},
		{"per_page=7&order_by=createdAt&order_type=desc", reversed(byCreated(all))},
		{"per_page=50&updated_since=" + mid, since(all, all[60].UpdatedAt)},
	} {
		var got []User
		next := srv.URL + "/pagination/next_page_url?" + tc.query
		for pages := 0; next != ""; pages++ {
			if pages > len(all) {
				t.Fatalf("%s: no end after %d pages", tc.query, pages)
			}
			if !strings.HasPrefix(next, srv.URL+"/pagination/next_page_url?") {
				t.Fatalf("next_page_url %q is not on the server %s", next, srv.URL)
			}
			r := decode[nextPageURLResp](t, httpGet(t, srv.Client(), next))
			if r.TotalItems != len(tc.want) {
				t.Fatalf("%s: total_items %d, want %d", next, r.TotalItems, len(tc.want))
			}
			got = append(got, r.Data...)
			next = ""
			if r.NextPageURL != nil {
				next = *r.NextPageURL
			}
		}
		if diff := cmp.Diff(ids(tc.want), ids(got)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.query, diff)
		}
	}
}

// TestNextPageURLHost checks that the next URL is on the host the request
// named, and null on the last page.
func TestNextPageURLHost(t *testing.T) {
	s := New(Config{Seed: 1})
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/pagination/next_page_url?per_page=50&page=3&updated_since=0001-01-01T00:00:00Z", nil)
	r.Host = "api.test:8080"
	s.ServeHTTP(w, r)
	got := decode[nextPageURLResp](t, w.Body.Bytes())
	want := "http://api.test:8080/pagination/next_page_url?order_by=updatedAt&order_type=asc&page=4&per_page=50&updated_since=0001-01-01T00%3A00%3A00Z"
	if got.NextPageURL == nil || *got.NextPageURL != want {
		t.Errorf("next_page_url = %v, want %s", got.NextPageURL, want)
	}
	last := decode[nextPageURLResp](t, mustGet(t, s, "/pagination/next_page_url?per_page=50&page=4").Body.Bytes())
	if last.NextPageURL != nil || len(last.Data) != 50 {
		t.Errorf("last page: next_page_url %v, %d records", last.NextPageURL, len(last.Data))
	}
}

// keysetModel is the seed's keyset rule applied to the records: 50 a page,
// each page strictly after the last updatedAt of the one before.
func keysetModel(all []User) (pages [][]User) {
	rest := all
	for len(rest) > 0 {
		page := rest[:min(50, len(rest))]
		pages = append(pages, page)
		last := page[len(page)-1].UpdatedAt
		rest = rest[len(page):]
		for len(rest) > 0 && !rest[0].UpdatedAt.After(last) {
			rest = rest[1:] // lost: ties the boundary
		}
	}
	return pages
}

func TestKeysetWalk(t *testing.T) {
	for _, cfg := range []Config{testConfig, {Records: 120, Seed: 3, TieRate: -1}} {
		s := New(cfg)
		all := s.Records()
		var got [][]User
		target := "/pagination/keyset"
		for {
			r := decode[keysetResp](t, mustGet(t, s, target).Body.Bytes())
			got = append(got, r.Data)
			if r.ScrollParam == nil {
				break
			}
			raw, err := base64.StdEncoding.DecodeString(*r.ScrollParam)
			if err != nil || string(raw) != r.Data[len(r.Data)-1].UpdatedAt.Format("2006-01-02T15:04:05Z") {
				t.Fatalf("scroll_param %q (%q, %v) is not the last updatedAt %v", *r.ScrollParam, raw, err, r.Data[len(r.Data)-1].UpdatedAt)
			}
			target = "/pagination/keyset?scroll_param=" + url.QueryEscape(*r.ScrollParam)
		}
		want := keysetModel(all)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%+v: pages (-want +got):\n%s", cfg, diff)
		}
		n := 0
		for _, p := range got {
			n += len(p)
		}
		if cfg.TieRate < 0 && n != len(all) {
			t.Errorf("without ties the keyset walk got %d of %d records", n, len(all))
		}
		if cfg.TieRate >= 0 && n >= len(all) {
			t.Errorf("with a tie across a page boundary the keyset walk got all %d records; the seed's rule loses some", n)
		}
	}
}

func TestKeysetSince(t *testing.T) {
	s := New(testConfig)
	all := s.Records()
	at := all[150].UpdatedAt
	r := decode[keysetResp](t, mustGet(t, s, "/pagination/keyset?updated_since="+at.Format("2006-01-02T15:04:05Z")).Body.Bytes())
	if diff := cmp.Diff(ids(since(all, at)[:50]), ids(r.Data)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNextTokenWalk(t *testing.T) {
	s := New(testConfig)
	all := s.Records()
	at := all[45].UpdatedAt // inside the 70-record tie
	for _, tc := range []struct {
		query string
		want  []User
	}{
		{"limit=50", all},
		{"limit=1", all},
		{"limit=50&updated_since=" + at.Format("2006-01-02T15:04:05Z"), since(all, at)},
	} {
		var got []User
		target := "/pagination/next_token?" + tc.query
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("%s: no end after %d pages", tc.query, pages)
			}
			r := decode[nextTokenResp](t, mustGet(t, s, target).Body.Bytes())
			got = append(got, r.Data...)
			if r.NextToken == nil {
				break
			}
			target = "/pagination/next_token?" + tc.query + "&next_token=" + *r.NextToken
		}
		if diff := cmp.Diff(ids(tc.want), ids(got)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.query, diff)
		}
	}
}

// linkRE matches one link-value of a Link header.
var linkRE = regexp.MustCompile(`<([^>]*)>;\s*rel="([^"]*)"`)

func parseLinks(h string) map[string]string {
	links := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(h, -1) {
		links[m[2]] = m[1]
	}
	return links
}

func TestLinkHeaderWalk(t *testing.T) {
	s := New(testConfig)
	all := s.Records()
	var got []User
	target := "http://mock.test/pagination/link_header?per_page=50&order_by=createdAt"
	for page := 1; ; page++ {
		w := mustGet(t, s, target)
		if n := w.Header().Get("X-Total-Count"); n != strconv.Itoa(len(all)) {
			t.Errorf("X-Total-Count %s", n)
		}
		got = append(got, decode[[]User](t, w.Body.Bytes())...)
		links := parseLinks(w.Header().Get("Link"))
		rel := func(p int) string {
			return "http://mock.test/pagination/link_header?order_by=createdAt&order_type=asc&page=" + strconv.Itoa(p) + "&per_page=50"
		}
		want := map[string]string{"first": rel(1), "last": rel(5)}
		if page > 1 {
			want["prev"] = rel(page - 1)
		}
		if page < 5 {
			want["next"] = rel(page + 1)
		}
		if diff := cmp.Diff(want, links); diff != "" {
			t.Fatalf("page %d links (-want +got):\n%s", page, diff)
		}
		if links["next"] == "" {
			break
		}
		target = links["next"]
	}
	if diff := cmp.Diff(ids(byCreated(all)), ids(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestStartingAfterWalk(t *testing.T) {
	s := New(testConfig)
	all := s.Records()
	var got []User
	target := "/pagination/starting_after?limit=50"
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("no end")
		}
		r := decode[startingAfterResp](t, mustGet(t, s, target).Body.Bytes())
		if r.Object != "list" || r.URL != "/pagination/starting_after" {
			t.Fatalf("object %q, url %q", r.Object, r.URL)
		}
		got = append(got, r.Data...)
		if !r.HasMore {
			break
		}
		target = "/pagination/starting_after?limit=50&starting_after=" + r.Data[len(r.Data)-1].ID
	}
	if diff := cmp.Diff(ids(byCreated(all)), ids(got)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestValidation(t *testing.T) {
	s := New(Config{Seed: 1, MaxPerPage: 100})
	ksToken := base64.StdEncoding.EncodeToString([]byte("2023-01-01T00:00:00Z"))
	for _, tc := range []struct {
		target string
		status int
		error  string
	}{
		{"/pagination/page_number?foo=1", 400, "Unexpected query parameters: foo"},
		{"/pagination/page_number?zed=1&alpha=2&page=1", 400, "Unexpected query parameters: alpha, zed"},
		{"/pagination/page_number?limit=5", 400, "Unexpected query parameters: limit"},
		{"/pagination/offset?page=1", 400, "Unexpected query parameters: page"},
		{"/pagination/keyset?order_by=updatedAt", 400, "Unexpected query parameters: order_by"},
		{"/pagination/page_number?page=0", 400, "Invalid page: must be 1 or more"},
		{"/pagination/page_number?page=-3", 400, "Invalid page: must be 1 or more"},
		{"/pagination/page_number?page=two", 400, `Invalid page: "two" is not an integer`},
		{"/pagination/page_number?page=", 400, `Invalid page: "" is not an integer`},
		{"/pagination/page_number?per_page=0", 400, "Invalid per_page: must be between 1 and 100"},
		{"/pagination/page_number?per_page=101", 400, "Invalid per_page: must be between 1 and 100"},
		{"/pagination/page_number?per_page=100", 200, ""},
		{"/pagination/next_page_url?per_page=0", 400, "Invalid per_page: must be between 1 and 100"},
		{"/pagination/link_header?page=0", 400, "Invalid page: must be 1 or more"},
		{"/pagination/offset?limit=0", 400, "Invalid limit: must be between 1 and 100"},
		{"/pagination/offset?offset=-1", 400, "Invalid offset: must be 0 or more"},
		{"/pagination/offset?offset=0", 200, ""},
		{"/pagination/page_number?order_by=id", 400, "Invalid order_by: must be createdAt or updatedAt"},
		{"/pagination/page_number?order_type=up", 400, "Invalid order_type: must be asc or desc"},
		{"/pagination/page_number?updated_since=2024-01-01T00:00:00", 400, "Invalid updated_since: must look like YYYY-MM-DDTHH:MM:SSZ"},
		{"/pagination/page_number?updated_since=2024-01-01", 400, "Invalid updated_since: must look like YYYY-MM-DDTHH:MM:SSZ"},
		{"/pagination/page_number?updated_since=2024-01-01T00:00:00.5Z", 400, "Invalid updated_since: must look like YYYY-MM-DDTHH:MM:SSZ"},
		{"/pagination/page_number?updated_since=2024-13-01T00:00:00Z", 400, "Invalid updated_since: must look like YYYY-MM-DDTHH:MM:SSZ"},
		{"/pagination/page_number?updated_since=2024-01-01T00:00:00%2B00:00", 400, "Invalid updated_since: must look like YYYY-MM-DDTHH:MM:SSZ"},
		{"/pagination/page_number?updated_since=0001-01-01T00:00:00Z", 200, ""},
		{"/pagination/page_number?page=%zz", 400, `Invalid query string: invalid URL escape "%zz"`},
		{"/pagination/keyset?scroll_param=" + url.QueryEscape(ksToken) + "&updated_since=2023-01-01T00:00:00Z", 400, "Use either scroll_param or updated_since, not both"},
		{"/pagination/keyset?scroll_param=!!!", 400, "Invalid scroll_param"},
		{"/pagination/keyset?scroll_param=" + base64.StdEncoding.EncodeToString([]byte("yesterday")), 400, "Invalid scroll_param"},
		{"/pagination/keyset?scroll_param=" + url.QueryEscape(ksToken), 200, ""},
		{"/pagination/keyset?updated_since=2023-01-01", 400, "Invalid updated_since: must look like YYYY-MM-DDTHH:MM:SSZ"},
		{"/pagination/next_token?next_token=abc", 400, "Invalid next_token"},
		{"/pagination/next_token?limit=0", 400, "Invalid limit: must be between 1 and 100"},
		{"/pagination/next_token?page=2", 400, "Unexpected query parameters: page"},
		{"/pagination/starting_after?starting_after=nope", 400, "Invalid starting_after: not a user id"},
		{"/pagination/starting_after?starting_after=00000000-0000-4000-8000-000000000000", 400, "No such user: 00000000-0000-4000-8000-000000000000"},
		{"/pagination/starting_after?limit=101", 400, "Invalid limit: must be between 1 and 100"},
		{"/pagination/nope", 404, "Not found"},
		{"/", 404, "Not found"},
	} {
		w := get(t, s, tc.target)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.target, w.Code, tc.status, w.Body)
			continue
		}
		if tc.status == 200 {
			continue
		}
		got := decode[struct {
			Error string `json:"error"`
		}](t, w.Body.Bytes())
		if got.Error != tc.error {
			t.Errorf("%s: error %q, want %q", tc.target, got.Error, tc.error)
		}
	}
	if st := s.Stats(); st.BadRequests == 0 || st.Requests != st.BadRequests+st.OK {
		t.Errorf("stats %+v: bad requests and OKs do not add up", st)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := New(Config{})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/pagination/page_number", strings.NewReader("{}")))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := srv.Client().Head(srv.URL + "/pagination/page_number")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength < 1000 {
		t.Errorf("HEAD: status %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
	}
}
