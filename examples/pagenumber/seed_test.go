package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
)

// seedServer answers /pagination/page_number as the seed's Python server
// does, where it differs from our mock API: it sorts by updatedAt alone with
// a stable sort, so records that share an updatedAt keep the order they were
// generated in (not id order); it writes JSON with Python's ", " and ": "
// separators; and it checks parameters with its own messages.
type seedServer struct {
	users []mockapi.User // in generation order

	mu   sync.Mutex
	reqs []string // raw queries
}

func (s *seedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.reqs = append(s.reqs, r.URL.RawQuery)
	s.mu.Unlock()
	fail := func(msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "{\"error\": %q}\n", msg)
	}
	for k := range q {
		if !slices.Contains([]string{"order_by", "order_type", "per_page", "page", "updated_since"}, k) {
			fail("Unexpected query parameters: " + k)
			return
		}
	}
	if q.Get("order_by") != "updatedAt" || q.Get("order_type") != "asc" {
		fail("this twin serves order_by=updatedAt&order_type=asc only")
		return
	}
	perPage, page := 10, 1
	if v := q.Get("per_page"); v != "" {
		perPage, _ = strconv.Atoi(v)
	}
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	if perPage < 1 || perPage > 50 {
		fail("Invalid value for 'per_page'. It should be between 1 and 50.")
		return
	}
	if page < 1 {
		fail("Invalid value for 'page'. It must be greater than or equal to 1.")
		return
	}
	items := slices.Clone(s.users)
	if since := q.Get("updated_since"); since != "" {
		if !strings.HasSuffix(since, "Z") {
			fail("Invalid date format for 'updated_since'. Must end with 'Z' for UTC")
			return
		}
		t, err := time.Parse("2006-01-02T15:04:05", strings.TrimSuffix(since, "Z"))
		if err != nil {
			fail("Invalid date format for 'updated_since'. Use 'YYYY-MM-DDTHH:MM:SSZ'")
			return
		}
		items = slices.DeleteFunc(items, func(u mockapi.User) bool { return u.UpdatedAt.Before(t) })
	}
	slices.SortStableFunc(items, func(a, b mockapi.User) int { return a.UpdatedAt.Compare(b.UpdatedAt) })
	start := min((page-1)*perPage, len(items))
	data := items[start:min(start+perPage, len(items))]

	var b bytes.Buffer
	b.WriteString(`{"data": [`)
	for i, u := range data {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"id": %s, "name": %s, "email": %s, "address": %s, "company": %s, "job": %s, "createdAt": "%s", "updatedAt": "%s"}`,
			js(u.ID), js(u.Name), js(u.Email), js(u.Address), js(u.Company), js(u.Job),
			u.CreatedAt.Format(sinceLayout), u.UpdatedAt.Format(sinceLayout))
	}
	fmt.Fprintf(&b, `], "page": %d, "page_size": %d, "total_pages": %d, "total_items": %d}`,
		page, perPage, (len(items)+perPage-1)/perPage, len(items))
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestSeedServer syncs from a twin of the seed's own server: every record,
// the seed's requests, and no false drift where ties are not in id order.
func TestSeedServer(t *testing.T) {
	// 200 records like the seed's, with ties across page boundaries whose
	// generation order is the reverse of their id order.
	users := mockapi.New(mockapi.Config{Records: 200, Seed: 31, TieRate: -1}).Records()
	for _, at := range []int{48, 98, 149} {
		tie := users[at : at+4]
		for i := range tie {
			tie[i].UpdatedAt = tie[0].UpdatedAt
		}
		slices.SortFunc(tie, func(a, b mockapi.User) int { return strings.Compare(b.ID, a.ID) })
	}
	seed := &seedServer{users: users}
	srv := httptest.NewServer(seed)
	defer srv.Close()

	cfg := testConfig(t, srv.URL)
	res, _ := syncOK(t, cfg)
	if diff := cmp.Diff(exampletest.ByID(users), exampletest.ReadUsers(t, cfg.DB)); diff != "" {
		t.Errorf("table differs from the seed's data (-seed +table):\n%s", diff)
	}
	if res.Items != 200 || res.DriftCount != 0 {
		t.Errorf("%d items, %d drifts; want 200, none", res.Items, res.DriftCount)
	}
	const first = "order_by=updatedAt&order_type=asc&updated_since=0001-01-01T00%3A00%3A00Z&per_page=50"
	got := slices.Clone(seed.reqs)
	slices.Sort(got[1:])
	want := []string{first, first + "&page=2", first + "&page=3", first + "&page=4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-seed connector's +ours):\n%s", diff)
	}

	// Incremental: the seed's request with the saved mark; the last
	// record comes again and is upserted, not duplicated.
	seed.reqs = nil
	res, _ = syncOK(t, cfg)
	mark := users[len(users)-1].UpdatedAt.Format(sinceLayout)
	if len(seed.reqs) != 1 || seed.reqs[0] != "order_by=updatedAt&order_type=asc&updated_since="+strings.ReplaceAll(mark, ":", "%3A")+"&per_page=50" {
		t.Errorf("incremental requests %q, want one since %s", seed.reqs, mark)
	}
	if res.Items != 1 || len(exampletest.ReadUsers(t, cfg.DB)) != 200 {
		t.Errorf("incremental run: %d items; want 1, and 200 rows", res.Items)
	}
}
