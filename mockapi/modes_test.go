package mockapi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ClampPages serves the last page for pages and offsets past the end, and
// NoTotals leaves every count out.
func TestClampPagesNoTotals(t *testing.T) {
	s := New(Config{Records: 25, Seed: 4, ClampPages: true, NoTotals: true})
	all := s.Records()
	type listing struct {
		Data     []User `json:"data"`
		Page     int    `json:"page"`
		PageSize int    `json:"page_size"`
	}
	for _, page := range []string{"3", "4", "99"} {
		got := decode[listing](t, mustGet(t, s, PathPageNumber+"?per_page=10&page="+page).Body.Bytes())
		if diff := cmp.Diff(all[20:], got.Data); diff != "" {
			t.Errorf("page %s (-want +got):\n%s", page, diff)
		}
		if keys := topKeys(t, mustGet(t, s, PathPageNumber+"?per_page=10&page="+page).Body.Bytes()); !cmp.Equal(keys, []string{"data", "page", "page_size"}) {
			t.Errorf("page %s keys %v, want no totals", page, keys)
		}
	}
	type offsetListing struct {
		Data   []User `json:"data"`
		Offset int    `json:"offset"`
		Limit  int    `json:"limit"`
	}
	for _, off := range []string{"20", "25", "1000"} {
		got := decode[offsetListing](t, mustGet(t, s, PathOffset+"?limit=10&offset="+off).Body.Bytes())
		if diff := cmp.Diff(all[20:], got.Data); diff != "" {
			t.Errorf("offset %s (-want +got):\n%s", off, diff)
		}
	}
	w := mustGet(t, s, PathLinkHeader+"?per_page=10&page=7")
	if w.Header().Get("X-Total-Count") != "" {
		t.Errorf("X-Total-Count %q with NoTotals", w.Header().Get("X-Total-Count"))
	}
	if diff := cmp.Diff(all[20:], decode[[]User](t, w.Body.Bytes())); diff != "" {
		t.Errorf("link_header page 7 (-want +got):\n%s", diff)
	}
	type urlListing struct {
		Data    []User  `json:"data"`
		Page    int     `json:"page"`
		PerPage int     `json:"per_page"`
		Next    *string `json:"next_page_url"`
	}
	decode[urlListing](t, mustGet(t, s, PathNextPageURL+"?per_page=10&page=2").Body.Bytes())

	// Without the modes, past the end is empty and totals are there.
	plain := New(Config{Records: 25, Seed: 4})
	if keys := topKeys(t, mustGet(t, plain, PathPageNumber+"?per_page=10&page=4").Body.Bytes()); !cmp.Equal(keys, []string{"data", "page", "page_size", "total_pages", "total_items"}) {
		t.Errorf("keys %v", keys)
	}
}
