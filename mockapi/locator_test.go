package mockapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

type queryPage struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl"`
	Records        []User `json:"records"`
}

// TestQueryLocator reads a query to its end through its locators, with
// the filter as a parameter and as a header; a locator refuses parameters;
// expired locators get Salesforce's INVALID_QUERY_LOCATOR, by
// ExpireLocators and by LocatorTTL.
func TestQueryLocator(t *testing.T) {
	s := New(Config{Records: 95, Seed: 4})
	all := s.Records()
	since := all[20].UpdatedAt.UTC().Format("2006-01-02T15:04:05Z")
	for _, header := range []bool{false, true} {
		target := PathQueryLocator + "?per_page=20"
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if header {
			req.Header.Set("X-Updated-Since", since)
		} else {
			req = httptest.NewRequest(http.MethodGet, target+"&updated_since="+since, nil)
		}
		var got []string
		for pages := 0; ; pages++ {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != 200 {
				t.Fatalf("%s: %d %s", req.URL, w.Code, w.Body)
			}
			p := decode[queryPage](t, w.Body.Bytes())
			for _, u := range p.Records {
				got = append(got, u.ID)
			}
			if p.Done != (p.NextRecordsURL == "") || p.TotalSize != 95-20 {
				t.Fatalf("page %d: done %v, next %q, total %d", pages, p.Done, p.NextRecordsURL, p.TotalSize)
			}
			if p.Done {
				break
			}
			req = httptest.NewRequest(http.MethodGet, p.NextRecordsURL, nil)
		}
		var want []string
		for _, u := range all[20:] {
			want = append(want, u.ID)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("header %v: read %d records, want the %d from the 21st", header, len(got), len(want))
		}
	}

	first := decode[queryPage](t, mustGet(t, s, PathQueryLocator+"?per_page=10").Body.Bytes())
	if w := get(t, s, first.NextRecordsURL+"?per_page=10"); w.Code != 400 || !strings.Contains(w.Body.String(), "MALFORMED_QUERY") {
		t.Errorf("a locator with a parameter: %d %s", w.Code, w.Body)
	}
	req := httptest.NewRequest(http.MethodGet, first.NextRecordsURL, nil)
	req.Header.Set("X-Updated-Since", since)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "MALFORMED_QUERY") {
		t.Errorf("a locator with the since header: %d %s", w.Code, w.Body)
	}
	s.ExpireLocators()
	w = get(t, s, first.NextRecordsURL)
	var sf []struct{ ErrorCode, Message string }
	if w.Code != 400 || json.Unmarshal(w.Body.Bytes(), &sf) != nil || len(sf) != 1 || sf[0].ErrorCode != "INVALID_QUERY_LOCATOR" {
		t.Errorf("an expired locator: %d %s", w.Code, w.Body)
	}
	if w := get(t, s, PathQueryLocator+"/01gQ999-0"); w.Code != 400 || !strings.Contains(w.Body.String(), "INVALID_QUERY_LOCATOR") {
		t.Errorf("an unknown locator: %d %s", w.Code, w.Body)
	}

	// In a bubble, where only the Sleep moves the clock: on a loaded
	// machine, the second request could come after the TTL in real time.
	synctest.Test(t, func(t *testing.T) {
		ttl := New(Config{Records: 30, LocatorTTL: 50 * time.Millisecond})
		first := decode[queryPage](t, mustGet(t, ttl, PathQueryLocator).Body.Bytes())
		time.Sleep(40 * time.Millisecond)
		mustGet(t, ttl, first.NextRecordsURL)
		time.Sleep(20 * time.Millisecond)
		if w := get(t, ttl, first.NextRecordsURL); w.Code != 400 || !strings.Contains(w.Body.String(), "INVALID_QUERY_LOCATOR") {
			t.Errorf("a locator past its TTL: %d %s", w.Code, w.Body)
		}
	})
}
