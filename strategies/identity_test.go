package strategies_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// Each strategy names what gives its positions their meaning, never a
// secret, and not what leaves positions alone.
func TestIdentity(t *testing.T) {
	h := strategies.Request{URL: "https://api.example.com:443/v1/items?b=2&api_key=s3cret&a=1",
		Query: url.Values{"access_token": {"t0k3n"}}}
	other := h
	other.URL = "http://127.0.0.1:8080/v1/items?a=1&b=2&api_key=rotated"
	other.Query = url.Values{"access_token": {"new"}}
	other.Client = &http.Client{}
	other.Header = http.Header{"Authorization": {"Bearer x"}}
	other.Auth = strategies.AuthFunc(func(*http.Request) error { return nil })
	// Limits leave positions alone too.
	otherLimits := strategies.Limits{Rate: rate.NewLimiter(1, 1), MaxBody: 1}
	withBody := func(h strategies.Request, secret string) strategies.Request {
		h.Body = map[string]any{"filter": map[string]any{"n": 9007199254740993}, "client_secret": secret}
		return h
	}

	tests := []struct {
		name   string
		p, q   paginate.Identifier // q: the same positions, other settings
		want   paginate.Identity
		differ paginate.Identifier // positions differ: size
	}{
		{
			name: "page number",
			p: &strategies.PageNumber[user]{
				Request:   h,
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response:  strategies.Shape[user]{ItemsPath: "data"},
				Window:    strategies.Window[user]{SinceParam: strategies.Query("since")},
			},
			q: &strategies.PageNumber[user]{
				Request:   other,
				Limits:    otherLimits,
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response:  strategies.Shape[user]{ItemsPath: "items"},
				Window:    strategies.Window[user]{SinceParam: strategies.Query("since")},
				MaxPage:   3,
			},
			want: paginate.Identity{"paginator": "page-number", "url": "/v1/items", "query": "a=1&access_token=REDACTED&api_key=REDACTED&b=2",
				"params": "page=query:page,since=query:since,size=query:per_page", "size": "50", "first": "1"},
			differ: &strategies.PageNumber[user]{
				Request:   h,
				Size:      100,
				SizeParam: strategies.Query("per_page"),
				Window:    strategies.Window[user]{SinceParam: strategies.Query("since")},
			},
		},
		{
			name: "offset",
			p: &strategies.Offset[user]{
				Request:     h,
				Size:        20,
				SizeParam:   strategies.Query("_limit"),
				OffsetParam: strategies.Query("_start"),
			},
			q: &strategies.Offset[user]{
				Request:     other,
				Limits:      otherLimits,
				Size:        20,
				SizeParam:   strategies.Query("_limit"),
				OffsetParam: strategies.Query("_start"),
				MaxOffset:   10,
			},
			want: paginate.Identity{"paginator": "offset", "url": "/v1/items", "query": "a=1&access_token=REDACTED&api_key=REDACTED&b=2",
				"params": "offset=query:_start,size=query:_limit", "size": "20"},
			differ: &strategies.Offset[user]{
				Request:     h,
				Size:        25,
				SizeParam:   strategies.Query("_limit"),
				OffsetParam: strategies.Query("_start"),
			},
		},
		{
			name: "cursor",
			p: &strategies.Cursor[user]{
				Request:     h,
				Size:        10,
				CursorParam: strategies.Query("after"),
				Value:       userKey,
			},
			q: &strategies.Cursor[user]{
				Request:     other,
				Limits:      otherLimits,
				Size:        10,
				CursorParam: strategies.Query("after"),
				Value:       userUpdatedAt,
			},
			want: paginate.Identity{"paginator": "cursor", "url": "/v1/items", "query": "a=1&access_token=REDACTED&api_key=REDACTED&b=2",
				"params": "cursor=query:after,size=query:limit", "size": "10", "inclusive": "false"},
			differ: &strategies.Cursor[user]{
				Request:     h,
				Size:        11,
				CursorParam: strategies.Query("after"),
				Value:       userKey,
			},
		},
		{
			name: "next token",
			p: &strategies.NextToken[user]{
				Request:    withBody(h, "x"),
				Size:       5,
				Response:   strategies.Shape[user]{ItemsPath: "items"},
				TokenPath:  "next",
				TokenParam: strategies.Body("page.cursor"),
			},
			q: &strategies.NextToken[user]{
				Request:    withBody(other, "y"),
				Limits:     otherLimits,
				Size:       5,
				Response:   strategies.Shape[user]{ItemsPath: "items"},
				TokenPath:  "next",
				TokenParam: strategies.Body("page.cursor"),
			},
			want: paginate.Identity{"paginator": "next-token", "url": "/v1/items", "query": "a=1&access_token=REDACTED&api_key=REDACTED&b=2",
				"method": "POST", "params": "size=query:limit,token=body:page.cursor", "size": "5", "next": "body:next",
				"body": `{"client_secret":"REDACTED","filter":{"n":9007199254740993}}`},
			differ: &strategies.NextToken[user]{
				Request:    withBody(h, "x"),
				Size:       6,
				Response:   strategies.Shape[user]{ItemsPath: "items"},
				TokenPath:  "next",
				TokenParam: strategies.Body("page.cursor"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Identity()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Identity (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(got, tt.q.Identity()); diff != "" {
				t.Errorf("settings that do not move positions changed the identity (-first +second):\n%s", diff)
			}
			if d := tt.differ.Identity(); d["size"] == got["size"] {
				t.Errorf("another size, same identity %v", d)
			}
			for _, secret := range []string{"s3cret", "t0k3n", "rotated"} {
				if strings.Contains(got.String(), secret) {
					t.Errorf("identity %s holds a secret", got)
				}
			}
		})
	}
}

// A configuration that does not compile still describes its kind; the run
// then fails at its first fetch.
func TestIdentityBadConfig(t *testing.T) {
	p := &strategies.PageNumber[user]{
		Request: strategies.Request{URL: "::"},
	}
	if got := p.Identity(); got["paginator"] != "page-number" {
		t.Errorf("Identity = %v", got)
	}
}
