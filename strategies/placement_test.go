package strategies_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// exchangeLog is a server that records every request exactly: method,
// escaped path, raw query, the X- headers and the body. It answers the
// first request with two records, a token "t2", has_more true and a total
// of 4, and the second with two more records and the end.
type exchangeLog struct {
	next string // the first page's next token or URL; empty means "t2"
	mu   sync.Mutex
	reqs []string
}

func (l *exchangeLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var hs []string
	for k, vs := range r.Header {
		if strings.HasPrefix(k, "X-") {
			hs = append(hs, k+"="+strings.Join(vs, ","))
		}
	}
	slices.Sort(hs)
	line := r.Method + " " + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	if len(hs) > 0 {
		line += " [" + strings.Join(hs, " ") + "]"
	}
	if len(body) > 0 {
		line += " " + string(body)
	}
	l.mu.Lock()
	n := len(l.reqs)
	l.reqs = append(l.reqs, line)
	l.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if n == 0 {
		next := l.next
		if next == "" {
			next = "t2"
		}
		io.WriteString(w, `{"items":[{"id":"u1","updatedAt":"2024-01-10T00:00:00Z"},{"id":"u2","updatedAt":"2024-01-11T00:00:00Z"}],"next":"`+next+`","more":true,"total":4}`)
		return
	}
	io.WriteString(w, `{"items":[{"id":"u3","updatedAt":"2024-01-12T00:00:00Z"},{"id":"u4","updatedAt":"2024-01-13T00:00:00Z"}],"next":null,"more":false,"total":4}`)
}

func (l *exchangeLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

// windowEnd is the fixed end of the placement tests' windows.
func windowEnd() time.Time { return time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC) }

// shared holds settings every strategy has, for tests that set the same
// ones on each of the four (see configure).
type shared struct {
	Size      int
	SizeParam strategies.Param
	Window    strategies.Window[user]
	Response  strategies.Shape[user]
}

// configure sets req and s on p, one of the four strategies, and returns p.
func configure(p paginate.Paginator[user], req strategies.Request, s shared) paginate.Paginator[user] {
	switch p := p.(type) {
	case *strategies.PageNumber[user]:
		p.Request, p.Size, p.SizeParam, p.Window, p.Response = req, s.Size, s.SizeParam, s.Window, s.Response
	case *strategies.Offset[user]:
		p.Request, p.Size, p.SizeParam, p.Window, p.Response = req, s.Size, s.SizeParam, s.Window, s.Response
	case *strategies.Cursor[user]:
		p.Request, p.Size, p.SizeParam, p.Window, p.Response = req, s.Size, s.SizeParam, s.Window, s.Response
	case *strategies.NextToken[user]:
		p.Request, p.Size, p.SizeParam, p.Window, p.Response = req, s.Size, s.SizeParam, s.Window, s.Response
	}
	return p
}

// placedWindow returns the shared settings of the placement tests: size 2,
// the window's bounds placed by place, the response's paths.
func placedWindow(place func(role string) strategies.Param) shared {
	return shared{
		Size: 2, SizeParam: place("size"),
		Window:   strategies.Window[user]{SinceParam: place("since"), UntilParam: place("until"), Until: windowEnd},
		Response: strategies.Shape[user]{ItemsPath: "items", TotalItemsPath: "total"},
	}
}

// The four places, each naming the roles its own way.
var (
	inQuery  = func(role string) strategies.Param { return strategies.Query(role) }
	inHeader = func(role string) strategies.Param { return strategies.Header("X-" + role) }
	inBody   = func(role string) strategies.Param { return strategies.Body("paging." + role) }
	inPath   = func(role string) strategies.Param { return strategies.Path(role) }
)

const (
	sinceMark = "2024-01-01T00:00:00Z"
	sinceQ    = "since=2024-01-01T00%3A00%3A00Z&until=2024-02-01T00%3A00%3A00Z"
	sinceH    = "X-Since=2024-01-01T00:00:00Z X-Size=2 X-Until=2024-02-01T00:00:00Z"
	sinceB    = `"since":"2024-01-01T00:00:00Z","until":"2024-02-01T00:00:00Z"`
	sinceP    = "2024-01-01T00:00:00Z/2024-02-01T00:00:00Z"
	pathURL   = "/v1/{since}/{until}/{size}/{pos}"
)

// Every value of every strategy goes where its Param says, the request
// exactly as expected: method, path, query, headers and body bytes. The
// static body's values are sent byte for byte.
func TestPlacement(t *testing.T) {
	body := map[string]any{"q": "a<b", "n": 9007199254740993}
	tests := []struct {
		name string
		url  string
		body any
		p    func(h strategies.Request) paginate.Paginator[user]
		next string // the next token or URL of the first page; empty means "t2"
		want []string
	}{
		{
			name: "page number in the query", url: "/v1/items?fixed=1",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.PageNumber[user]{PageParam: inQuery("pos")}, h, placedWindow(inQuery))
			},
			want: []string{
				"GET /v1/items?fixed=1&" + sinceQ + "&size=2&pos=1",
				"GET /v1/items?fixed=1&" + sinceQ + "&size=2&pos=2",
			},
		},
		{
			name: "page number in headers", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.PageNumber[user]{PageParam: inHeader("pos"), FirstPage: 5}, h, placedWindow(inHeader))
			},
			want: []string{
				"GET /v1/items [X-Pos=5 " + sinceH + "]",
				"GET /v1/items [X-Pos=6 " + sinceH + "]",
			},
		},
		{
			name: "page number in the body", url: "/v1/search", body: body,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.PageNumber[user]{PageParam: inBody("pos"), ZeroBased: true}, h, placedWindow(inBody))
			},
			want: []string{
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2,"pos":0}}`,
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2,"pos":1}}`,
			},
		},
		{
			name: "page number in the path", url: pathURL + "?fixed=1",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.PageNumber[user]{PageParam: inPath("pos")}, h, placedWindow(inPath))
			},
			want: []string{
				"GET /v1/" + sinceP + "/2/1?fixed=1",
				"GET /v1/" + sinceP + "/2/2?fixed=1",
			},
		},
		{
			name: "offset in the query", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.Offset[user]{OffsetParam: inQuery("pos")}, h, placedWindow(inQuery))
			},
			want: []string{
				"GET /v1/items?" + sinceQ + "&size=2&pos=0",
				"GET /v1/items?" + sinceQ + "&size=2&pos=2",
			},
		},
		{
			name: "offset in headers", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.Offset[user]{OffsetParam: inHeader("pos")}, h, placedWindow(inHeader))
			},
			want: []string{
				"GET /v1/items [X-Pos=0 " + sinceH + "]",
				"GET /v1/items [X-Pos=2 " + sinceH + "]",
			},
		},
		{
			name: "offset in the body", url: "/v1/search", body: body,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.Offset[user]{OffsetParam: inBody("pos")}, h, placedWindow(inBody))
			},
			want: []string{
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2,"pos":0}}`,
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2,"pos":2}}`,
			},
		},
		{
			name: "offset in the path", url: pathURL,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.Offset[user]{OffsetParam: inPath("pos")}, h, placedWindow(inPath))
			},
			want: []string{
				"GET /v1/" + sinceP + "/2/0",
				"GET /v1/" + sinceP + "/2/2",
			},
		},
		{
			name: "cursor in the query", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.Cursor[user]{CursorParam: inQuery("pos"), Value: userKey}, h, placedWindow(inQuery))
			},
			want: []string{
				"GET /v1/items?" + sinceQ + "&size=2",
				"GET /v1/items?" + sinceQ + "&size=2&pos=u2",
			},
		},
		{
			name: "cursor in headers", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.Cursor[user]{CursorParam: inHeader("pos"), Value: userKey}, h, placedWindow(inHeader))
			},
			want: []string{
				"GET /v1/items [" + sinceH + "]",
				"GET /v1/items [X-Pos=u2 " + sinceH + "]",
			},
		},
		{
			name: "cursor in the body", url: "/v1/search", body: body,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.Cursor[user]{CursorParam: inBody("pos"), Value: userKey}, h, placedWindow(inBody))
			},
			want: []string{
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2}}`,
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2,"pos":"u2"}}`,
			},
		},
		{
			name: "compound cursor in the body", url: "/v1/search",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return &strategies.Cursor[user]{
					Request:     h,
					Size:        2,
					SizeParam:   inBody("size"),
					Response:    strategies.Shape[user]{ItemsPath: "items"},
					CursorParam: strategies.Param{In: strategies.InBody},
					Params: func(u user) url.Values {
						return url.Values{"after.id": {u.ID}, "after.ts": {u.UpdatedAt}}
					},
				}
			},
			want: []string{
				`POST /v1/search {"paging":{"size":2}}`,
				`POST /v1/search {"paging":{"size":2},"after":{"id":"u2","ts":"2024-01-11T00:00:00Z"}}`,
			},
		},
		{
			name: "cursor in the path", url: "/v1/{since}/{until}/{size}/after/{pos}",
			p: func(h strategies.Request) paginate.Paginator[user] {
				h.PathValues = map[string]string{"pos": "-"} // the first request's cursor
				return configure(&strategies.Cursor[user]{CursorParam: inPath("pos"), Value: userKey}, h, placedWindow(inPath))
			},
			want: []string{
				"GET /v1/" + sinceP + "/2/after/-",
				"GET /v1/" + sinceP + "/2/after/u2",
			},
		},
		{
			name: "token in the query", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{TokenPath: "next", TokenParam: inQuery("pos")}, h, placedWindow(inQuery))
			},
			want: []string{
				"GET /v1/items?" + sinceQ + "&size=2",
				"GET /v1/items?" + sinceQ + "&size=2&pos=t2",
			},
		},
		{
			name: "token in headers", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{TokenPath: "next", TokenParam: inHeader("pos"), FirstToken: "*"}, h, placedWindow(inHeader))
			},
			want: []string{
				"GET /v1/items [X-Pos=* " + sinceH + "]",
				"GET /v1/items [X-Pos=t2 " + sinceH + "]",
			},
		},
		{
			name: "token in the body", url: "/v1/search", body: body,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{TokenPath: "next", TokenParam: inBody("pos")}, h, placedWindow(inBody))
			},
			want: []string{
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2}}`,
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2,"pos":"t2"}}`,
			},
		},
		{
			name: "token in the path", url: pathURL,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{TokenPath: "next", TokenParam: inPath("pos"), FirstToken: "first"}, h, placedWindow(inPath))
			},
			want: []string{
				"GET /v1/" + sinceP + "/2/first",
				"GET /v1/" + sinceP + "/2/t2",
			},
		},
		// A next URL carries the API's state: the values the strategy
		// places go with the first request only, wherever they are
		// placed, unless ResendParams says otherwise; the static query,
		// headers and body are the first request's.
		{
			name: "next URL, values in the query", url: "/v1/items?fixed=1",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{NextURLPath: "next"}, h, placedWindow(inQuery))
			},
			want: []string{
				"GET /v1/items?fixed=1&" + sinceQ + "&size=2",
				"GET /v1/t2",
			},
		},
		{
			name: "next URL, values in headers", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				h.Header = http.Header{"X-Static": {"s"}}
				return configure(&strategies.NextToken[user]{NextURLPath: "next"}, h, placedWindow(inHeader))
			},
			want: []string{
				"GET /v1/items [X-Since=2024-01-01T00:00:00Z X-Size=2 X-Static=s X-Until=2024-02-01T00:00:00Z]",
				"GET /v1/t2 [X-Static=s]",
			},
		},
		{
			name: "next URL, values in the body", url: "/v1/search", body: body,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{NextURLPath: "next"}, h, placedWindow(inBody))
			},
			want: []string{
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2}}`,
				`POST /v1/t2 {"n":9007199254740993,"q":"a\u003cb"}`,
			},
		},
		{
			name: "next URL, values in the path", url: "/v1/{since}/{until}/{size}",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{NextURLPath: "next"}, h, placedWindow(inPath))
			},
			want: []string{
				"GET /v1/" + sinceP + "/2",
				"GET /v1/" + sinceP + "/t2",
			},
		},
		{
			name: "next URL resending the values in headers", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{NextURLPath: "next", ResendParams: true}, h, placedWindow(inHeader))
			},
			want: []string{
				"GET /v1/items [" + sinceH + "]",
				"GET /v1/t2 [" + sinceH + "]",
			},
		},
		{
			name: "next URL resending the values in the body", url: "/v1/search", body: body,
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{NextURLPath: "next", ResendParams: true}, h, placedWindow(inBody))
			},
			want: []string{
				`POST /v1/search {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2}}`,
				`POST /v1/t2 {"n":9007199254740993,"q":"a\u003cb","paging":{` + sinceB + `,"size":2}}`,
			},
		},
		{
			name: "next URL resending the values in the query it lacks", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				return configure(&strategies.NextToken[user]{NextURLPath: "next", ResendParams: true}, h, placedWindow(inQuery))
			},
			next: "t2?size=9",
			want: []string{
				"GET /v1/items?" + sinceQ + "&size=2",
				"GET /v1/t2?size=9&" + sinceQ,
			},
		},
		{
			name: "bounds on the first request only", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				pg := placedWindow(inQuery)
				pg.Window.BoundsOnFirstOnly = true
				return configure(&strategies.NextToken[user]{TokenPath: "next", TokenParam: inQuery("pos")}, h, pg)
			},
			want: []string{
				"GET /v1/items?" + sinceQ + "&size=2",
				"GET /v1/items?size=2&pos=t2",
			},
		},
		{
			name: "a method of its own", url: "/v1/items",
			p: func(h strategies.Request) paginate.Paginator[user] {
				h.Method = "put"
				return configure(&strategies.Offset[user]{OffsetParam: inQuery("pos")}, h, placedWindow(inBody))
			},
			want: []string{
				`PUT /v1/items?pos=0 {"paging":{` + sinceB + `,"size":2}}`,
				`PUT /v1/items?pos=2 {"paging":{` + sinceB + `,"size":2}}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &exchangeLog{next: tt.next}
			srv := httptest.NewServer(log)
			defer srv.Close()
			p := tt.p(strategies.Request{URL: srv.URL + tt.url, Body: tt.body})
			page, err := p.Fetch(context.Background(), paginate.Position{Since: sinceMark})
			if err != nil {
				t.Fatal(err)
			}
			if !page.More {
				t.Fatalf("first page: %+v, want more", page)
			}
			next := page.Next
			next.Since = sinceMark // as the runner does
			if page, err = p.Fetch(context.Background(), next); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, log.list()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}
