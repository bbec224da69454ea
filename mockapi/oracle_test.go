package mockapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWantJSON: the oracle lists the records of the listing a request asks
// for, in the endpoint's order, whatever page or cursor the request starts
// from, and follows mutations.
func TestWantJSON(t *testing.T) {
	s := New(Config{Records: 60, Seed: 3, TieRate: 0.2})
	all := s.Records()
	cut := all[25].UpdatedAt
	stamp := cut.Format("2006-01-02T15:04:05Z")
	tests := []struct {
		target string
		want   []User
	}{
		{PathPageNumber, all},
		{PathPageNumber + "?page=3&per_page=7", all},
		{PathPageNumber + "?order_by=createdAt&order_type=desc", reversed(byCreated(all))},
		{PathPageNumber + "?updated_since=" + stamp, since(all, cut)},
		{PathOffset + "?offset=40&limit=5&order_type=desc", reversed(all)},
		{PathNextPageURL + "?updated_since=" + stamp + "&order_by=createdAt", byCreated(since(all, cut))},
		{PathLinkHeader + "?page=2", all},
		{PathKeyset + "?scroll_param=MjAyMy0wMS0wMVQwMDowMDowMFo=", all},
		{PathNextToken + "?updated_since=" + stamp, since(all, cut)},
		{PathStartingAfter + "?starting_after=" + all[3].ID, byCreated(all)},
	}
	for _, tc := range tests {
		got, err := s.WantJSON(httptest.NewRequest(http.MethodGet, tc.target, nil))
		if err != nil {
			t.Errorf("WantJSON(%s): %v", tc.target, err)
			continue
		}
		if diff := cmp.Diff(ids(tc.want), ids(decode[[]User](t, got))); diff != "" {
			t.Errorf("WantJSON(%s) ids (-want +got):\n%s", tc.target, diff)
		}
	}

	// The answer is the records as served: the same bytes a page carries.
	got, err := s.WantJSON(httptest.NewRequest(http.MethodGet, PathOffset+"?limit=50", nil))
	if err != nil {
		t.Fatal(err)
	}
	page := decode[offsetResp](t, mustGet(t, s, PathOffset+"?limit=50").Body.Bytes())
	if diff := cmp.Diff(page.Data, decode[[]User](t, got)[:50]); diff != "" {
		t.Errorf("WantJSON records differ from the served ones (-served +want):\n%s", diff)
	}

	s.Insert(4)
	s.Mutate(2, 3)
	if n := s.Len(); n != 67 {
		t.Errorf("Len after Insert(4) and Mutate(2, 3) = %d, want 67", n)
	}
	if st := s.Stats(); st.Updated != 2 || st.Inserted != 7 {
		t.Errorf("Stats: %d updated, %d inserted; want 2, 7", st.Updated, st.Inserted)
	}
	got, err = s.WantJSON(httptest.NewRequest(http.MethodGet, PathNextToken, nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(s.Records()), ids(decode[[]User](t, got))); diff != "" {
		t.Errorf("WantJSON after Insert (-want +got):\n%s", diff)
	}
}

func TestWantJSONErrors(t *testing.T) {
	s := New(Config{Records: 5})
	for target, want := range map[string]string{
		"/users":                                  "no listing at /users",
		PathPageNumber + "?updated_since=x":       "Invalid updated_since",
		PathOffset + "?order_by=name":             "Invalid order_by",
		PathPageNumber + "?page=%zz":              "invalid query string",
		PathNextToken + "?since=" + time.DateOnly: "", // unknown parameters are the endpoint's business
	} {
		_, err := s.WantJSON(httptest.NewRequest(http.MethodGet, target, nil))
		switch {
		case want == "" && err != nil:
			t.Errorf("WantJSON(%s) = %v, want no error", target, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("WantJSON(%s) = %v, want an error containing %q", target, err, want)
		}
	}
}
