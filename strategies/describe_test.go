package strategies_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// Each strategy describes how it reads, so that paginate.Run turns on the
// drift detection it needs and warns of what it cannot protect.
func TestDescribe(t *testing.T) {
	since := strategies.Query("updated_since")
	newest := func(u mockapi.User) string { return confStamp(u) }
	tests := []struct {
		name string
		p    paginate.Describer
		want paginate.Description
	}{
		{"page number", &strategies.PageNumber[mockapi.User]{Window: strategies.Window[mockapi.User]{SinceParam: since}}, paginate.Description{ByPosition: true, SendsSince: true}},
		{"page number, no since", &strategies.PageNumber[mockapi.User]{}, paginate.Description{ByPosition: true}},
		{"page number, newest first", &strategies.PageNumber[mockapi.User]{Window: strategies.Window[mockapi.User]{NewestFirst: newest}}, paginate.Description{SendsSince: true}},
		{"offset", &strategies.Offset[mockapi.User]{Window: strategies.Window[mockapi.User]{SinceParam: since}}, paginate.Description{ByPosition: true, SendsSince: true}},
		{"offset with overlap", &strategies.Offset[mockapi.User]{Overlap: 3}, paginate.Description{}},
		{"cursor", &strategies.Cursor[mockapi.User]{Window: strategies.Window[mockapi.User]{SinceParam: since}, CursorParam: since}, paginate.Description{SendsSince: true}},
		{"next token", &strategies.NextToken[mockapi.User]{Window: strategies.Window[mockapi.User]{SinceParam: since}}, paginate.Description{SendsSince: true}},
		{"next URLs by page number", &strategies.NextToken[mockapi.User]{ByPosition: true}, paginate.Description{ByPosition: true}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.p.Describe()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// Issue 20's case 5: HighWater set, and no request sends it. Every sync
// reads every record again; the run says so before its first request.
func TestHighWaterNotSent(t *testing.T) {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 30, Seed: 1}))
	defer srv.Close()
	p := &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: srv.URL + mockapi.PathPageNumber, Client: srv.Client()},
		Size:      10,
		SizeParam: strategies.Query("per_page"),
		Response:  strategies.Shape[mockapi.User]{ItemsPath: "data", TotalPagesPath: "total_pages"},
	}
	res, err := paginate.Run(context.Background(), p, new(paginate.MemorySink[mockapi.User]), paginate.Options[mockapi.User]{Key: confKey, HighWater: confStamp})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "every sync reads every record again") {
		t.Errorf("warnings %q, want one that says every sync reads every record again", res.Warnings)
	}
}
