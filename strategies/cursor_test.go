package strategies_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// tiedUsers returns n users whose updatedAt values come in runs of group
// equal values, ordered by (updatedAt, id).
func tiedUsers(n, group int) []user {
	us := users(n)
	for i := range us {
		us[i].UpdatedAt = epoch.Add(time.Duration(i/group) * time.Minute).Format(time.RFC3339)
	}
	return us
}

// withTie returns n users with unique increasing updatedAt values, except
// users from..to-1, which share one.
func withTie(n, from, to int) []user {
	us := users(n)
	for i := from; i < to; i++ {
		us[i].UpdatedAt = us[from].UpdatedAt
	}
	return us
}

// keysetAPI serves users ordered by (updatedAt, id) after a cursor:
// updated_since (inclusive unless strict), after_id with it for a compound
// cursor, or Stripe's starting_after=<id>.
type keysetAPI struct {
	users    []user
	cap      int // the largest page served; 0 means 50
	strict   bool
	compound bool // updated_since with after_id: (updatedAt, id) > (since, after_id)
	hasMore  bool
}

func (a *keysetAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := min(intParam(r, "limit", 10), cmpOr(a.cap, 50))
	since, afterID, startingAfter := q.Get("updated_since"), q.Get("after_id"), q.Get("starting_after")
	var rest []user
	for i, u := range a.users {
		switch {
		case startingAfter != "":
			if u.ID == startingAfter {
				rest = a.users[i+1:]
			}
			continue
		case a.compound && afterID != "":
			if u.UpdatedAt < since || u.UpdatedAt == since && u.ID <= afterID {
				continue
			}
		case a.strict && u.UpdatedAt <= since, u.UpdatedAt < since:
			continue
		}
		rest = append(rest, u)
	}
	page := rest[:min(limit, len(rest))]
	body := map[string]any{"object": "list", "data": page}
	if a.hasMore {
		body["has_more"] = len(rest) > limit
	}
	writeJSON(w, http.StatusOK, body)
}

func TestCursor(t *testing.T) {
	all := users(120)
	tied := tiedUsers(120, 4) // runs of 4 equal timestamps across page edges
	tests := []struct {
		name      string
		api       keysetAPI
		c         strategies.Cursor[user]
		wantItems []user
		wantStop  paginate.StopReason
		wantQuery []string // the cursor parameters of each request
		wantErr   error
	}{
		{name: "starting_after with has_more", api: keysetAPI{users: all, hasMore: true},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("starting_after"),
				Value:       userKey,
				Size:        50,
				Response:    strategies.Shape[user]{HasMorePath: "has_more"},
			},
			wantItems: all, wantStop: paginate.StopHasMoreFalse,
			wantQuery: []string{"limit=50", "limit=50&starting_after=u0050", "limit=50&starting_after=u0100"}},
		{name: "first page empty", api: keysetAPI{users: nil, hasMore: true},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("starting_after"),
				Value:       userKey,
				Size:        50,
				Response:    strategies.Shape[user]{HasMorePath: "has_more"},
			},
			wantItems: nil, wantStop: paginate.StopHasMoreFalse, wantQuery: []string{"limit=50"}},
		{name: "exclusive updated_since, no has_more", api: keysetAPI{users: all, strict: true},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Size:        50,
			},
			wantItems: all, wantStop: paginate.StopEmptyPage,
			wantQuery: []string{"limit=50", "limit=50&updated_since=2024-01-01T00%3A49%3A00Z",
				"limit=50&updated_since=2024-01-01T01%3A39%3A00Z", "limit=50&updated_since=2024-01-01T01%3A59%3A00Z"}},
		{name: "inclusive, unique values", api: keysetAPI{users: all},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
				Size:        50,
			},
			wantItems: all, wantStop: paginate.StopLastPage,
			wantQuery: []string{"limit=50", "limit=50&updated_since=2024-01-01T00%3A49%3A00Z",
				"limit=50&updated_since=2024-01-01T01%3A38%3A00Z", "limit=50&updated_since=2024-01-01T01%3A59%3A00Z"}},
		{name: "inclusive, ties across page edges", api: keysetAPI{users: tied},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
				Size:        50,
			},
			wantItems: tied, wantStop: paginate.StopLastPage,
			wantQuery: []string{"limit=50", "limit=50&updated_since=2024-01-01T00%3A12%3A00Z",
				"limit=50&updated_since=2024-01-01T00%3A24%3A00Z", "limit=50&updated_since=2024-01-01T00%3A29%3A00Z"}},
		{name: "inclusive, since as the first cursor", api: keysetAPI{users: all},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
				Size:        50,
				Window: strategies.Window[user]{
					SinceParam:   strategies.Query("updated_since"),
					SinceDefault: "2024-01-01T01:30:00Z",
				},
			},
			wantItems: all[90:], wantStop: paginate.StopLastPage,
			wantQuery: []string{"limit=50&updated_since=2024-01-01T01%3A30%3A00Z", "limit=50&updated_since=2024-01-01T01%3A59%3A00Z"}},
		{name: "inclusive, page size capped by the server", api: keysetAPI{users: tied, cap: 20},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
				Size:        100,
			},
			wantItems: tied, wantStop: paginate.StopLastPage},
		{name: "inclusive, a whole page of ties", api: keysetAPI{users: tiedUsers(120, 60)},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
				Size:        50,
			},
			wantItems: tiedUsers(120, 60)[:50], wantStop: paginate.StopError, wantErr: strategies.ErrTieTooLarge,
			wantQuery: []string{"limit=50", "limit=50&updated_since=2024-01-01T00%3A00%3A00Z"}},
		{name: "inclusive, a tie as large as the page the server caps at", api: keysetAPI{users: withTie(120, 40, 65), cap: 20},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
				Size:        100,
			},
			wantItems: withTie(120, 40, 65)[:58], wantStop: paginate.StopError, wantErr: strategies.ErrTieTooLarge},
		{name: "inclusive, a small data set all at one value", api: keysetAPI{users: tiedUsers(20, 20)},
			c: strategies.Cursor[user]{
				CursorParam: strategies.Query("updated_since"),
				Value:       userUpdatedAt,
				Key:         userKey,
				Inclusive:   true,
				Size:        50,
			},
			wantItems: tiedUsers(20, 20), wantStop: paginate.StopLastPage,
			wantQuery: []string{"limit=50", "limit=50&updated_since=2024-01-01T00%3A00%3A00Z"}},
		{name: "compound cursor gets past a whole page of ties", api: keysetAPI{users: tiedUsers(120, 60), compound: true},
			c: strategies.Cursor[user]{
				Params: func(u user) url.Values {
					return url.Values{"updated_since": {u.UpdatedAt}, "after_id": {u.ID}}
				},
				Size: 50,
			},
			wantItems: tiedUsers(120, 60), wantStop: paginate.StopEmptyPage,
			wantQuery: []string{"limit=50", "limit=50&after_id=u0050&updated_since=2024-01-01T00%3A00%3A00Z",
				"limit=50&after_id=u0100&updated_since=2024-01-01T00%3A01%3A00Z", "limit=50&after_id=u0120&updated_since=2024-01-01T00%3A01%3A00Z"}},
	}
	for i := range tests {
		tt := &tests[i]
		t.Run(tt.name, func(t *testing.T) {
			srv, q := serve(t, &tt.api)
			c := &tt.c
			c.Request = strategies.Request{URL: srv.URL + "/keyset"}
			c.Response.ItemsPath = "data"
			got, res, err := runAll(t, paginate.Paginator[user](c), paginate.Options[user]{Key: userKey})
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(ids(tt.wantItems), ids(got)); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
			if res.Stop != tt.wantStop {
				t.Errorf("stop = %v, want %v", res.Stop, tt.wantStop)
			}
			if tt.wantQuery != nil {
				if diff := cmp.Diff(tt.wantQuery, q.list()); diff != "" {
					t.Errorf("requests mismatch (-want +got):\n%s", diff)
				}
			}
			if errors.Is(tt.wantErr, strategies.ErrTieTooLarge) && !strings.Contains(err.Error(), "tie-breaker") {
				t.Errorf("error %q does not say a tie-breaker is needed", err)
			}
		})
	}
}

// TestCursorResumeInsideTie stops a run after each page and resumes it from
// the checkpoint: the boundary keys travel in the position, so nothing is
// delivered twice or lost.
func TestCursorResumeInsideTie(t *testing.T) {
	tied := tiedUsers(120, 7)
	srv, _ := serve(t, &keysetAPI{users: tied, cap: 30})
	c := &strategies.Cursor[user]{
		Request:     strategies.Request{URL: srv.URL},
		Size:        30,
		Response:    strategies.Shape[user]{ItemsPath: "data"},
		CursorParam: strategies.Query("updated_since"),
		Value:       userUpdatedAt,
		Key:         userKey,
		Inclusive:   true,
	}
	sink := new(paginate.MemorySink[user])
	runs := 0
	for ; runs < 20; runs++ {
		res, err := paginate.Run(context.Background(), c, sink, paginate.Options[user]{Limits: paginate.Limits{MaxPages: 1}, Retry: fast})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stop != paginate.StopMaxPages {
			break
		}
		if runs > 0 && !res.Resumed {
			t.Fatalf("run %d did not resume", runs+1)
		}
	}
	if diff := cmp.Diff(ids(tied), ids(sink.Items())); diff != "" {
		t.Errorf("items over %d runs mismatch (-want +got):\n%s", runs+1, diff)
	}
}

func TestCursorBadPosition(t *testing.T) {
	c := &strategies.Cursor[user]{
		Request:     strategies.Request{URL: "http://127.0.0.1:1/x"},
		CursorParam: strategies.Query("after"),
		Value:       userKey,
	}
	for _, pos := range []paginate.Position{{Page: 2}, {Offset: 3}, {Token: "not json"}} {
		if _, err := c.Fetch(context.Background(), pos); !errors.Is(err, strategies.ErrBadPosition) {
			t.Errorf("Fetch(%v) error = %v, want ErrBadPosition", pos, err)
		}
	}
}

func TestCursorEmptyValue(t *testing.T) {
	srv, _ := serve(t, respond(200, nil, `{"data":[{"id":""}]}`))
	c := &strategies.Cursor[user]{
		Request:     strategies.Request{URL: srv.URL},
		Response:    strategies.Shape[user]{ItemsPath: "data"},
		CursorParam: strategies.Query("after"),
		Value:       userKey,
	}
	if _, err := c.Fetch(context.Background(), paginate.Position{}); err == nil || !paginate.IsPermanent(err) {
		t.Fatalf("error = %v, want a permanent error for an empty cursor", err)
	}
}
