package strategies_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// shiftingAPI serves {"data": [...]} by offset and limit from a list that a
// test changes after a given request, as a source that changes while a
// client pages through it.
type shiftingAPI struct {
	mu     sync.Mutex
	data   []user
	n      int
	after  int // request number after which change runs
	change func([]user) []user
}

func (a *shiftingAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	end := min(off+lim, len(a.data))
	page := []user{}
	if off < end {
		page = a.data[off:end]
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"data": page})
	if a.n == a.after && a.change != nil {
		a.data = a.change(slices.Clone(a.data))
	}
}

func TestOffsetOverlap(t *testing.T) {
	versionKey := func(u user) string { return u.ID + "@" + u.UpdatedAt }
	// moveToEnd updates the records at the given indexes: they get a new
	// version and move to the end, so everything after them shifts left.
	moveToEnd := func(idx ...int) func([]user) []user {
		return func(us []user) []user {
			var moved []user
			for _, i := range slices.Backward(idx) {
				u := us[i]
				u.UpdatedAt = "2099-01-01T00:00:00Z"
				moved = append(moved, u)
				us = slices.Delete(us, i, i+1)
			}
			return append(us, moved...)
		}
	}
	insertAt := func(i, n int) func([]user) []user {
		return func(us []user) []user {
			var add []user
			for k := range n {
				add = append(add, user{ID: "new" + strconv.Itoa(k), UpdatedAt: "2000-01-01T00:00:00Z"})
			}
			return slices.Insert(us, i, add...)
		}
	}
	type want struct {
		Missing []string // ids of the final source not delivered
		Twice   []string // ids delivered more than once at one version
		Drift   []paginate.DriftKind
		Since   string // Since of the checkpoint after the sync
	}
	tests := []struct {
		name    string
		overlap int
		change  func([]user) []user
		want    want
	}{
		{"no change", 3, nil, want{Since: "2024-01-01T00:29:00Z"}},
		{"shift left by 2 within overlap 3", 3, moveToEnd(1, 2), want{Since: "2099-01-01T00:00:00Z"}},
		{"shift right by 2 within overlap 3", 3, insertAt(0, 2), want{Missing: []string{"new0", "new1"}, Since: "2024-01-01T00:29:00Z"}},
		{"shift left by 5 beyond overlap 3", 3, moveToEnd(0, 1, 2, 3, 4), want{
			Missing: []string{"u0011", "u0012"},
			Drift:   []paginate.DriftKind{paginate.DriftOverlap},
			Since:   "",
		}},
		{"without overlap a left shift skips in silence", 0, moveToEnd(1, 2), want{Missing: []string{"u0011", "u0012"}, Since: "2099-01-01T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &shiftingAPI{data: users(30), after: 1, change: tt.change}
			srv, _ := serve(t, api)
			o := &strategies.Offset[user]{
				Request:    strategies.Request{URL: srv.URL, Client: srv.Client()},
				Size:       10,
				Response:   strategies.Shape[user]{ItemsPath: "data"},
				Overlap:    tt.overlap,
				OverlapKey: versionKey,
			}
			sink := new(paginate.MemorySink[user])
			res, err := paginate.Run(context.Background(), o, sink, paginate.Options[user]{HighWater: userUpdatedAt, Retry: fast})
			if err != nil {
				t.Fatal(err)
			}
			got := want{Since: res.Checkpoint.Position.Since}
			count := map[string]int{}
			for _, u := range sink.Items() {
				count[versionKey(u)]++
			}
			for _, u := range api.data {
				if count[versionKey(u)] == 0 {
					got.Missing = append(got.Missing, u.ID)
				}
			}
			for k, n := range count {
				if n > 1 {
					got.Twice = append(got.Twice, k)
				}
			}
			for _, d := range res.Drifts {
				got.Drift = append(got.Drift, d.Kind)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("overlap %d (-want +got):\n%s", tt.overlap, diff)
			}
		})
	}
}

func TestOffsetOverlapConfig(t *testing.T) {
	for _, o := range []*strategies.Offset[user]{
		{Request: strategies.Request{URL: "http://127.0.0.1:1/"}, Size: 10, Overlap: 2},
		{Request: strategies.Request{URL: "http://127.0.0.1:1/"}, Overlap: 2, OverlapKey: userKey},
	} {
		if _, err := o.Fetch(context.Background(), paginate.Position{}); !errors.Is(err, strategies.ErrConfig) {
			t.Errorf("Fetch with %+v: err = %v, want ErrConfig", o, err)
		}
	}
}
