package mockapi

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

type ordersPage struct {
	Data       []Order `json:"data"`
	Page       int     `json:"page"`
	PageSize   int     `json:"page_size"`
	TotalPages int     `json:"total_pages"`
	TotalItems int     `json:"total_items"`
}

// walkOrders reads every page of a user's orders with query q.
func walkOrders(t *testing.T, s *Server, id string, q url.Values) []Order {
	t.Helper()
	var out []Order
	for page := 1; ; page++ {
		q.Set("page", fmt.Sprint(page))
		p := decode[ordersPage](t, mustGet(t, s, OrdersPath(id)+"?"+q.Encode()).Body.Bytes())
		out = append(out, p.Data...)
		if page >= p.TotalPages {
			if len(out) != p.TotalItems {
				t.Fatalf("user %s: %d orders walked, total_items %d", id, len(out), p.TotalItems)
			}
			return out
		}
	}
}

func TestOrdersWalkEveryUser(t *testing.T) {
	s := New(Config{Records: 300, Seed: 4})
	var none, many, all int
	for _, u := range s.Records() {
		want, ok := s.Orders(u.ID)
		if !ok {
			t.Fatalf("Orders(%s): no such user", u.ID)
		}
		got := walkOrders(t, s, u.ID, url.Values{"per_page": {"50"}})
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("user %s: walked orders differ from Orders (-Orders +walk):\n%s", u.ID, diff)
		}
		for i, o := range got {
			if o.UserID != u.ID || o.UpdatedAt.Before(o.CreatedAt) || o.CreatedAt.Before(u.CreatedAt) {
				t.Fatalf("order %+v of user %s (created %v) is not consistent", o, u.ID, u.CreatedAt)
			}
			if i > 0 && o.UpdatedAt.Before(got[i-1].UpdatedAt) {
				t.Fatalf("user %s: orders not in updatedAt order at %d", u.ID, i)
			}
		}
		switch n := len(got); {
		case n == 0:
			none++
		case n > 150:
			many++
		}
		all += len(got)
	}
	if none == 0 || many == 0 {
		t.Errorf("%d users without orders and %d with more than 150: want some of each", none, many)
	}
	t.Logf("300 users: %d orders, %d users without, %d with more than 150", all, none, many)
}

func TestOrdersIncrementalAndErrors(t *testing.T) {
	s := New(Config{Records: 50, Seed: 5, OrdersPerUser: 120})
	u := s.Records()[7]
	all, _ := s.Orders(u.ID)
	if len(all) != 120 {
		t.Fatalf("OrdersPerUser 120: user has %d orders", len(all))
	}
	mark := all[60].UpdatedAt
	got := walkOrders(t, s, u.ID, url.Values{"per_page": {"25"}, "updated_since": {mark.Format(time.RFC3339)}})
	var want []Order
	for _, o := range all {
		if !o.UpdatedAt.Before(mark) {
			want = append(want, o)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("updated_since walk (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		target string
		status int
	}{
		{OrdersPath("00000000-0000-4000-8000-000000000000"), http.StatusNotFound},
		{OrdersPath("not-a-uuid"), http.StatusNotFound},
		{"/users//orders", http.StatusNotFound},
		{"/users/a/b/orders", http.StatusNotFound},
		{OrdersPath(u.ID) + "?page=0", http.StatusBadRequest},
		{OrdersPath(u.ID) + "?order_by=updatedAt", http.StatusBadRequest},
		{OrdersPath(u.ID) + "?per_page=51", http.StatusBadRequest},
	} {
		if w := get(t, s, tc.target); w.Code != tc.status {
			t.Errorf("GET %s: status %d, want %d (%s)", tc.target, w.Code, tc.status, w.Body)
		}
	}
	if w := mustGet(t, s, OrdersPath(u.ID)+"?page=99"); len(decode[ordersPage](t, w.Body.Bytes()).Data) != 0 {
		t.Errorf("a page past the end is not empty")
	}
}

type eventsPage struct {
	Data      []Event `json:"data"`
	NextToken *string `json:"next_token"`
}

func walkEvents(t *testing.T, h http.Handler, q url.Values) []Event {
	t.Helper()
	var out []Event
	for {
		p := decode[eventsPage](t, mustGet(t, h, PathEvents+"?"+q.Encode()).Body.Bytes())
		out = append(out, p.Data...)
		if p.NextToken == nil {
			return out
		}
		q.Set("next_token", *p.NextToken)
	}
}

func TestEventsWalk(t *testing.T) {
	s := New(Config{Records: 100, Seed: 6, Events: 777})
	want := s.Events()
	if len(want) != 777 {
		t.Fatalf("Events: %d events, want 777", len(want))
	}
	got := walkEvents(t, s, url.Values{"limit": {"50"}})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("walk differs from Events (-Events +walk):\n%s", diff)
	}
	users := make(map[string]bool)
	for _, u := range s.Records() {
		users[u.ID] = true
	}
	ids := make(map[string]bool)
	for i, e := range got {
		if !users[e.UserID] || ids[e.ID] || i > 0 && !got[i-1].CreatedAt.Before(e.CreatedAt) {
			t.Fatalf("event %d %+v: unknown user, repeated id or out of order", i, e)
		}
		ids[e.ID] = true
	}
	// Inserting users does not change the log.
	s.Insert(10)
	if diff := cmp.Diff(want, s.Events()); diff != "" {
		t.Errorf("the log changed after an insert:\n%s", diff)
	}

	since := want[500].CreatedAt
	got = walkEvents(t, s, url.Values{"limit": {"7"}, "created_since": {since.Format(time.RFC3339)}})
	if diff := cmp.Diff(want[500:], got); diff != "" {
		t.Errorf("created_since walk (-want +got):\n%s", diff)
	}
	for _, target := range []string{PathEvents + "?next_token=zz", PathEvents + "?created_since=yesterday", PathEvents + "?page=2"} {
		if w := get(t, s, target); w.Code != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 400", target, w.Code)
		}
	}
	if got := walkEvents(t, New(Config{Records: 10, Events: -1}), url.Values{}); len(got) != 0 {
		t.Errorf("Events -1: %d events", len(got))
	}
}

func TestRelatedDeterministicAndFaulty(t *testing.T) {
	cfg := Config{Records: 40, Seed: 9}
	a, b := New(cfg), New(cfg)
	u := a.Records()[3]
	for _, target := range []string{OrdersPath(u.ID) + "?per_page=50", PathEvents + "?limit=50"} {
		if x, y := mustGet(t, a, target).Body.String(), mustGet(t, b, target).Body.String(); x != y {
			t.Errorf("GET %s differs between two servers of one Config", target)
		}
	}
	other := New(Config{Records: 40, Seed: 10})
	if slices.Equal(walkEvents(t, a, url.Values{}), walkEvents(t, other, url.Values{})) {
		t.Errorf("two seeds give the same event log")
	}
	f := New(Config{Records: 40, Seed: 9, ErrorRate: 1, ErrorCodes: []int{503}})
	for _, target := range []string{OrdersPath(u.ID), PathEvents} {
		if w := get(t, f, target); w.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s with ErrorRate 1: status %d, want 503", target, w.Code)
		}
	}
	if f.Stats().Errors != 2 {
		t.Errorf("Stats().Errors = %d, want 2", f.Stats().Errors)
	}
}
