package strategies_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// offsetAPI serves users by offset and limit.
type offsetAPI struct {
	users       []user
	offsetParam string // default "offset"
	limitParam  string // default "limit"
	cap         int    // the largest page served; 0 means 50
	total       func(real int) int
	header      bool // the total in X-Total-Count instead of the body
	lastAgain   bool // an offset past the end serves the last page again
	array       bool // the body is the bare array
}

func (a *offsetAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	off := intParam(r, cmpOrS(a.offsetParam, "offset"), 0)
	limit := intParam(r, cmpOrS(a.limitParam, "limit"), 10)
	if off < 0 || limit < 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad offset or limit"})
		return
	}
	limit = min(limit, cmpOr(a.cap, 50))
	us := since(a.users, r.URL.Query().Get("updated_since"))
	if a.lastAgain && off >= len(us) && len(us) > 0 {
		off = (len(us) - 1) / limit * limit
	}
	data := window(us, off, limit)
	if a.total != nil && a.header {
		w.Header().Set("X-Total-Count", strconv.Itoa(a.total(len(us))))
	}
	if a.array {
		writeJSON(w, http.StatusOK, data)
		return
	}
	body := map[string]any{"data": data, "offset": off, "limit": limit}
	if a.total != nil && !a.header {
		body["total"] = a.total(len(us))
	}
	writeJSON(w, http.StatusOK, body)
}

func cmpOrS(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestOffset(t *testing.T) {
	all := users(120)
	same := func(n int) int { return n }
	tests := []struct {
		name        string
		api         offsetAPI
		setup       func(o *strategies.Offset[user])
		key         bool
		wantItems   []user
		wantStop    paginate.StopReason
		wantOffsets []string
		wantErr     error
	}{
		{name: "normal", api: offsetAPI{users: all, total: same},
			wantItems: all, wantStop: paginate.StopTotalReached, wantOffsets: []string{"0", "50", "100"}},
		{name: "first page empty", api: offsetAPI{users: nil, total: same},
			wantItems: nil, wantStop: paginate.StopEmptyPage, wantOffsets: []string{"0"}},
		{name: "last page short, no total", api: offsetAPI{users: all},
			wantItems: all, wantStop: paginate.StopEmptyPage, wantOffsets: []string{"0", "50", "100", "120"}},
		{name: "short page ends when told", api: offsetAPI{users: all},
			setup:     func(o *strategies.Offset[user]) { o.Response.ShortPageEnds = true },
			wantItems: all, wantStop: paginate.StopShortPage, wantOffsets: []string{"0", "50", "100"}},
		{name: "total lies larger", api: offsetAPI{users: all, total: func(int) int { return 300 }},
			wantItems: all, wantStop: paginate.StopTotalReached, wantOffsets: []string{"0", "50", "100", "120", "170", "220", "270"}},
		{name: "total lies larger, an empty page ends when told", api: offsetAPI{users: all, total: func(int) int { return 1000 }},
			setup:     func(o *strategies.Offset[user]) { o.Response.EmptyPageEnds = true },
			wantItems: all, wantStop: paginate.StopEmptyPage, wantOffsets: []string{"0", "50", "100", "120"}},
		{name: "total lies larger, no size to step by", api: offsetAPI{users: all, total: func(int) int { return 1000 }},
			setup:     func(o *strategies.Offset[user]) { o.Size = 0 },
			wantItems: all, wantStop: paginate.StopEmptyPage, wantOffsets: []string{"0", "10", "20", "30", "40", "50", "60", "70", "80", "90", "100", "110", "120"}},
		{name: "total lies smaller", api: offsetAPI{users: all, total: func(int) int { return 60 }},
			wantItems: all[:100], wantStop: paginate.StopTotalReached, wantOffsets: []string{"0", "50"}},
		{name: "limit capped by the server", api: offsetAPI{users: all, cap: 30, total: same},
			setup:     func(o *strategies.Offset[user]) { o.Size = 100 },
			wantItems: all, wantStop: paginate.StopTotalReached, wantOffsets: []string{"0", "30", "60", "90"}},
		{name: "out-of-range offset serves the last page again", api: offsetAPI{users: all, lastAgain: true}, key: true,
			wantItems: all, wantStop: paginate.StopLoopDetected, wantOffsets: []string{"0", "50", "100", "120"}, wantErr: paginate.ErrLoop},
		{name: "total in a header", api: offsetAPI{users: all, total: same, header: true},
			setup: func(o *strategies.Offset[user]) {
				o.Response.TotalItemsPath = ""
				o.Response.TotalItemsHeader = "X-Total-Count"
			},
			wantItems: all, wantStop: paginate.StopTotalReached, wantOffsets: []string{"0", "50", "100"}},
		{name: "_start and _limit, bare array", api: offsetAPI{users: all, offsetParam: "_start", limitParam: "_limit", array: true, total: same, header: true},
			setup: func(o *strategies.Offset[user]) {
				o.OffsetParam, o.SizeParam, o.Response.ItemsPath, o.Response.TotalItemsPath, o.Response.TotalItemsHeader = strategies.Query("_start"), strategies.Query("_limit"), "", "", "X-Total-Count"
			},
			wantItems: all, wantStop: paginate.StopTotalReached, wantOffsets: []string{"0", "50", "100"}},
		{name: "max offset", api: offsetAPI{users: all, total: same},
			setup:     func(o *strategies.Offset[user]) { o.MaxOffset = 100 },
			wantItems: all[:100], wantStop: paginate.StopDepthLimit, wantOffsets: []string{"0", "50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, q := serve(t, &tt.api)
			o := &strategies.Offset[user]{
				Request: strategies.Request{URL: srv.URL + "/pagination/offset"},
				Size:    50,
				Response: strategies.Shape[user]{
					ItemsPath:      "data",
					TotalItemsPath: "total",
				},
			}
			if tt.setup != nil {
				tt.setup(o)
			}
			opts := paginate.Options[user]{Concurrency: 1}
			if tt.key {
				opts.Key = userKey
			}
			got, res, err := runAll(t, o, opts)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(ids(tt.wantItems), ids(got)); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
			if res.Stop != tt.wantStop {
				t.Errorf("stop = %v, want %v", res.Stop, tt.wantStop)
			}
			var offsets []string
			for _, raw := range q.list() {
				v, _ := url.ParseQuery(raw)
				offsets = append(offsets, v.Get(cmpOrS(tt.api.offsetParam, "offset")))
			}
			if diff := cmp.Diff(tt.wantOffsets, offsets); diff != "" {
				t.Errorf("offsets requested mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOffsetPlan(t *testing.T) {
	o := &strategies.Offset[user]{
		Request: strategies.Request{URL: "http://127.0.0.1:1/x"},
	}
	offs := func(ns ...int64) []paginate.Position {
		var ps []paginate.Position
		for _, n := range ns {
			ps = append(ps, paginate.Position{Offset: n})
		}
		return ps
	}
	tests := []struct {
		name  string
		o     *strategies.Offset[user]
		pos   paginate.Position
		first paginate.PageInfo
		want  []paginate.Position
	}{
		{"total", o, paginate.Position{}, paginate.PageInfo{Items: 50, More: true, Next: paginate.Position{Offset: 50}, TotalItems: 200}, offs(50, 100, 150)},
		{"capped stride", o, paginate.Position{}, paginate.PageInfo{Items: 30, More: true, Next: paginate.Position{Offset: 30}, TotalItems: 100}, offs(30, 60, 90)},
		{"resumed", o, paginate.Position{Offset: 70}, paginate.PageInfo{Items: 50, More: true, Next: paginate.Position{Offset: 120}, TotalItems: 200}, offs(120, 170)},
		{"no total", o, paginate.Position{}, paginate.PageInfo{Items: 50, More: true, Next: paginate.Position{Offset: 50}}, nil},
		{"last page", o, paginate.Position{}, paginate.PageInfo{Items: 50, TotalItems: 50}, nil},
		{"huge total, planned lazily", o, paginate.Position{}, paginate.PageInfo{Items: 1, More: true, Next: paginate.Position{Offset: 1}, TotalItems: 1 << 62}, offs(1, 2, 3)},
		{"max offset", &strategies.Offset[user]{
			Request:   o.Request,
			MaxOffset: 120,
		}, paginate.Position{},
			paginate.PageInfo{Items: 50, More: true, Next: paginate.Position{Offset: 50}, TotalItems: 1000}, offs(50, 100)},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, collectPlan(tt.o.Plan(tt.pos, tt.first), 3)); diff != "" {
			t.Errorf("%s: Plan mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestOffsetPlanMatchesFetch checks that every planned position is the Next
// that Fetch reports for the page before it, with a capped page size.
func TestOffsetPlanMatchesFetch(t *testing.T) {
	srv, _ := serve(t, &offsetAPI{users: users(95), cap: 20, total: func(n int) int { return n }})
	o := &strategies.Offset[user]{
		Request: strategies.Request{URL: srv.URL},
		Size:    100,
		Response: strategies.Shape[user]{
			ItemsPath:      "data",
			TotalItemsPath: "total",
		},
	}
	ctx := context.Background()
	first, err := o.Fetch(ctx, paginate.Position{})
	if err != nil {
		t.Fatal(err)
	}
	plan := collectPlan(o.Plan(paginate.Position{}, paginate.PageInfo{Items: len(first.Items), More: first.More, Next: first.Next, TotalItems: first.TotalItems}))
	var walked []paginate.Position
	for pos := first.Next; ; {
		walked = append(walked, pos)
		page, err := o.Fetch(ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		if !page.More {
			break
		}
		pos = page.Next
	}
	if diff := cmp.Diff(walked, plan); diff != "" {
		t.Errorf("plan differs from the pages Fetch walks (-walked +plan):\n%s", diff)
	}
}

func TestOffsetBadPosition(t *testing.T) {
	o := &strategies.Offset[user]{
		Request: strategies.Request{URL: "http://127.0.0.1:1/x"},
	}
	for _, pos := range []paginate.Position{{Page: 2}, {Token: "x"}, {Offset: -1}} {
		if _, err := o.Fetch(context.Background(), pos); !errors.Is(err, strategies.ErrBadPosition) {
			t.Errorf("Fetch(%v) error = %v, want ErrBadPosition", pos, err)
		}
	}
}
