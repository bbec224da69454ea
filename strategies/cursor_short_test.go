package strategies_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

func TestCursorShortPageEnds(t *testing.T) {
	all := users(25)
	for _, tt := range []struct {
		name      string
		short     bool
		wantStop  paginate.StopReason
		wantCalls int
	}{
		{"short page ends the data", true, paginate.StopShortPage, 3},
		{"by default an empty page does", false, paginate.StopEmptyPage, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, q := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				after := r.URL.Query().Get("after")
				limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
				page := []user{}
				for _, u := range all {
					if u.ID > after && len(page) < limit {
						page = append(page, u)
					}
				}
				writeJSON(w, 200, map[string]any{"data": page})
			}))
			c := &strategies.Cursor[user]{
				Request: strategies.Request{URL: srv.URL, Client: srv.Client()},
				Size:    10,
				Response: strategies.Shape[user]{
					ItemsPath:     "data",
					ShortPageEnds: tt.short,
				},
				CursorParam: strategies.Query("after"),
				Value:       userKey,
			}
			sink := new(paginate.MemorySink[user])
			res, err := paginate.Run(context.Background(), c, sink, paginate.Options[user]{Retry: fast})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ids(all), ids(sink.Items())); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if res.Stop != tt.wantStop || len(q.raw) != tt.wantCalls {
				t.Errorf("stop %v after %d requests, want %v after %d", res.Stop, len(q.raw), tt.wantStop, tt.wantCalls)
			}
		})
	}
}
