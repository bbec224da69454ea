package strategies_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// Every strategy checks its configuration up front, and paginate.Run does
// so before the first request.
func TestValidate(t *testing.T) {
	srv, q := serve(t, http.NotFoundHandler())
	u := srv.URL + "/items"
	tests := []struct {
		name string
		p    interface {
			paginate.Paginator[user]
			Validate() error
		}
		want string // in the error; empty for a valid configuration
	}{
		{"page number ok", &strategies.PageNumber[user]{Request: strategies.Request{URL: u}}, ""},
		{"no URL", &strategies.PageNumber[user]{}, "Request.URL is empty"},
		{"negative size", &strategies.Offset[user]{Request: strategies.Request{URL: u}, Size: -1}, "Size must not be negative"},
		{"FirstPage and ZeroBased", &strategies.PageNumber[user]{Request: strategies.Request{URL: u}, FirstPage: 2, ZeroBased: true}, "FirstPage or ZeroBased"},
		{"page sent nowhere", &strategies.PageNumber[user]{Request: strategies.Request{URL: u}, PageParam: strategies.Param{In: strategies.Nowhere}}, "must send the page number"},
		{"path placeholder without value", &strategies.PageNumber[user]{Request: strategies.Request{URL: srv.URL + "/a/{account}/items"}}, "{account}"},
		{"path value without placeholder", &strategies.PageNumber[user]{Request: strategies.Request{URL: u, PathValues: map[string]string{"x": "1"}}}, "no {x}"},
		{"path param without placeholder", &strategies.PageNumber[user]{Request: strategies.Request{URL: u}, PageParam: strategies.Path("page")}, "no {page}"},
		{"bad header name", &strategies.NextToken[user]{Request: strategies.Request{URL: u}, TokenPath: "next", TokenParam: strategies.Header("X Token")}, "not a header name"},
		{"body field with index", &strategies.NextToken[user]{Request: strategies.Request{URL: u}, TokenPath: "next", TokenParam: strategies.Body("a[0]")}, "array index"},
		{"body not an object", &strategies.NextToken[user]{Request: strategies.Request{URL: u, Body: []int{1}}, TokenPath: "next", TokenParam: strategies.Body("a")}, "JSON object"},
		{"cursor without param", &strategies.Cursor[user]{Request: strategies.Request{URL: u}, Value: userKey}, "CursorParam and Value"},
		{"two token sources", &strategies.NextToken[user]{Request: strategies.Request{URL: u}, TokenPath: "a", LinkRel: "next"}, "one of"},
		{"token without placement", &strategies.NextToken[user]{Request: strategies.Request{URL: u}, TokenPath: "a"}, "TokenParam"},
		{"lookback without since", &strategies.Offset[user]{Request: strategies.Request{URL: u}, Window: strategies.Window[user]{Lookback: 1}}, "Lookback needs"},
		{"bad items path", &strategies.Cursor[user]{Request: strategies.Request{URL: u}, CursorParam: strategies.Query("a"), Value: userKey, Response: strategies.Shape[user]{ItemsPath: "a..b"}}, "empty key"},
		{"until without its param", &strategies.PageNumber[user]{Request: strategies.Request{URL: u}, Window: strategies.Window[user]{Until: time.Now}}, "Until needs UntilParam"},
		{"window end in varying widths", &strategies.Cursor[user]{
			Request:     strategies.Request{URL: u},
			CursorParam: strategies.Query("a"),
			Value:       userKey,
			Window:      strategies.Window[user]{UntilParam: strategies.Query("to"), TimeLayout: time.RFC3339Nano},
		}, "varying widths"},
		{"window end that does not sort", &strategies.NextToken[user]{
			Request:    strategies.Request{URL: u},
			TokenPath:  "next",
			TokenParam: strategies.Query("t"),
			Window:     strategies.Window[user]{UntilParam: strategies.Query("to"), TimeLayout: "02/01/2006 15:04:05"},
		}, "does not sort"},
		{"window end in milliseconds", &strategies.Offset[user]{
			Request: strategies.Request{URL: u},
			Window:  strategies.Window[user]{UntilParam: strategies.Query("to"), TimeLayout: "2006-01-02T15:04:05.000Z07:00"},
		}, ""},
		{"bad has-more rule", &strategies.Offset[user]{Request: strategies.Request{URL: u}, Response: strategies.Shape[user]{HasMorePath: "x", HasMoreIf: 9}}, "HasMoreRule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, strategies.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want ErrConfig with %q", err, tt.want)
			}
			before := len(q.list())
			res, rerr := paginate.Run(context.Background(), tt.p, paginate.SinkFunc[user](func(context.Context, []user) error { return nil }), paginate.Options[user]{})
			if !errors.Is(rerr, strategies.ErrConfig) || res.Stop != paginate.StopError || len(q.list()) != before {
				t.Errorf("Run: %v, stop %v, %d requests; want ErrConfig before any request", rerr, res.Stop, len(q.list())-before)
			}
		})
	}
}
