package mockapi

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func post(t *testing.T, h http.Handler, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, target, strings.NewReader(body)))
	return w
}

type searchPage struct {
	Results []User `json:"results"`
	Total   int    `json:"total"`
	Paging  *struct {
		Next struct {
			After string `json:"after"`
		} `json:"next"`
	} `json:"paging"`
}

// The search walks the window [since, until) in (updatedAt, id) order by
// its after token, and refuses what it does not know.
func TestSearch(t *testing.T) {
	s := New(Config{Records: 95, Seed: 7})
	all := s.Records()
	since, until := all[10].UpdatedAt, all[80].UpdatedAt
	var want []User
	for _, u := range all {
		if !u.UpdatedAt.Before(since) && u.UpdatedAt.Before(until) {
			want = append(want, u)
		}
	}
	var got []User
	after := ""
	for range 20 {
		body := `{"filter":{"updated_since":"` + since.Format(time.RFC3339) + `","updated_until":"` + until.Format(time.RFC3339) + `"},"limit":25`
		if after != "" {
			body += `,"after":"` + after + `"`
		}
		w := post(t, s, PathSearch, body+"}")
		if w.Code != 200 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		p := decode[searchPage](t, w.Body.Bytes())
		if p.Total != len(want) {
			t.Errorf("total %d, want %d", p.Total, len(want))
		}
		got = append(got, p.Results...)
		if p.Paging == nil {
			break
		}
		after = p.Paging.Next.After
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("search results (-want +got):\n%s", diff)
	}
	if w := post(t, s, PathSearch, ""); w.Code != 200 || len(decode[searchPage](t, w.Body.Bytes()).Results) != 10 {
		t.Errorf("an empty body: %d %s, want the first 10 records", w.Code, w.Body)
	}
	for _, bad := range []string{`{"limit":0}`, `{"limit":51}`, `{"limit":1.5}`, `{"after":"x"}`, `{"filter":{"updated_since":"2024"}}`, `{"sort":"x"}`, `[`} {
		if w := post(t, s, PathSearch, bad); w.Code != 400 {
			t.Errorf("body %s: status %d, want 400", bad, w.Code)
		}
	}
	if w := get(t, s, PathSearch); w.Code != 405 || w.Header().Get("Allow") != "POST" {
		t.Errorf("GET: status %d, Allow %q; want 405, POST", w.Code, w.Header().Get("Allow"))
	}
	if w := post(t, s, PathPageNumber, "{}"); w.Code != 405 {
		t.Errorf("POST to a listing: status %d, want 405", w.Code)
	}
}

// The newest-first feed serves every record by descending (updatedAt, id).
func TestNewestFirst(t *testing.T) {
	s := New(Config{Records: 33, Seed: 8})
	want := s.Records()
	slices.Reverse(want)
	type page struct {
		Data     []User `json:"data"`
		Page     int    `json:"page"`
		PageSize int    `json:"page_size"`
	}
	var got []User
	for p := 1; ; p++ {
		pg := decode[page](t, mustGet(t, s, PathNewestFirst+"?per_page=10&page="+string(rune('0'+p))).Body.Bytes())
		if len(pg.Data) == 0 {
			break
		}
		got = append(got, pg.Data...)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("newest first (-want +got):\n%s", diff)
	}
	if w := get(t, s, PathNewestFirst+"?updated_since=2024-01-01T00:00:00Z"); w.Code != 400 {
		t.Errorf("a filter: status %d, want 400", w.Code)
	}
	oracle, err := s.WantJSON(httptest.NewRequest(http.MethodGet, PathNewestFirst, nil))
	if err != nil || !cmp.Equal(want, decode[[]User](t, oracle)) {
		t.Errorf("WantJSON is not the feed's order: %v", err)
	}
}

// Late records land behind the newest one, in order, on every listing.
func TestInsertLate(t *testing.T) {
	s := New(Config{Records: 50, Seed: 9})
	newest := s.Records()[49].UpdatedAt
	late := s.InsertLate(3, 2*time.Hour)
	if len(late) != 3 || !late[0].UpdatedAt.Equal(newest.Add(-2*time.Hour)) {
		t.Fatalf("InsertLate: %+v", late)
	}
	all := s.Records()
	if len(all) != 53 || !slices.IsSortedFunc(all, func(a, b User) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	}) {
		t.Errorf("Records after InsertLate: %d, sorted %v", len(all), false)
	}
	for _, u := range late {
		if got, ok := s.Get(u.ID); !ok || !cmp.Equal(got, u) {
			t.Errorf("Get(%s) = %+v, %v", u.ID, got, ok)
		}
	}
	type listing struct {
		Data       []User `json:"data"`
		Page       int    `json:"page"`
		PageSize   int    `json:"page_size"`
		TotalPages int    `json:"total_pages"`
		TotalItems int    `json:"total_items"`
	}
	since := newest.Add(-3 * time.Hour).Format(time.RFC3339)
	l := decode[listing](t, mustGet(t, s, PathPageNumber+"?per_page=50&updated_since="+since).Body.Bytes())
	var wantIDs, gotIDs []string
	for _, u := range all {
		if !u.UpdatedAt.Before(newest.Add(-3 * time.Hour)) {
			wantIDs = append(wantIDs, u.ID)
		}
	}
	for _, u := range l.Data {
		gotIDs = append(gotIDs, u.ID)
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("page_number since %s (-want +got):\n%s", since, diff)
	}
}
