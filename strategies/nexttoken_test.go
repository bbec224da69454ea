package strategies_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// tokenAPI serves pages named by tokens.
type tokenAPI struct {
	pages  [][]user
	tokens []string // tokens[i] names page i; the first page is asked for with tokens[0]
	next   []string // next[i] is the token page i hands out; nil means tokens[i+1], then none
	read   func(r *http.Request) string
	write  func(w http.ResponseWriter, r *http.Request, items []user, next string)
}

func (a *tokenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok := a.read(r)
	for i, t := range a.tokens {
		if t != tok {
			continue
		}
		var next string
		switch {
		case a.next != nil:
			next = a.next[i]
		case i+1 < len(a.tokens):
			next = a.tokens[i+1]
		}
		a.write(w, r, a.pages[i], next)
		return
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad token " + tok})
}

func split(us []user, size int) [][]user {
	var pages [][]user
	for len(us) > 0 {
		n := min(size, len(us))
		pages = append(pages, us[:n])
		us = us[n:]
	}
	return pages
}

func param(name string) func(*http.Request) string {
	return func(r *http.Request) string { return r.URL.Query().Get(name) }
}

// nextURL reads a token from the "page" parameter of a next URL.
var nextURL = param("page")

// bodyToken writes {"items": [...], "nextPageToken": next}, with null for
// no token.
func bodyToken(w http.ResponseWriter, _ *http.Request, items []user, next string) {
	var tok any
	if next != "" {
		tok = next
	}
	writeJSON(w, 200, map[string]any{"items": items, "nextPageToken": tok})
}

func TestNextToken(t *testing.T) {
	all := users(60)
	pages := split(all, 20)
	toks := []string{"", "t2", "t3"}
	absURL := func(r *http.Request, tok string) string {
		return "http://" + r.Host + "/pagination/next_page_url?page=" + tok
	}
	tests := []struct {
		name      string
		api       tokenAPI
		p         strategies.NextToken[user]
		key       bool
		wantItems []user
		wantStop  paginate.StopReason
		wantErr   error
		wantReqs  []string // request query strings, when checked
	}{
		{name: "body token in a query parameter", api: tokenAPI{pages: pages, tokens: toks, read: param("pageToken"), write: bodyToken},
			p: strategies.NextToken[user]{
				TokenPath:  "nextPageToken",
				TokenParam: strategies.Query("pageToken"),
				Size:       20,
				SizeParam:  strategies.Query("maxResults"),
				Response:   strategies.Shape[user]{ItemsPath: "items"},
			},
			wantItems: all, wantStop: paginate.StopNoNextToken,
			wantReqs: []string{"maxResults=20", "maxResults=20&pageToken=t2", "maxResults=20&pageToken=t3"}},
		{name: "first page empty", api: tokenAPI{pages: [][]user{{}}, tokens: []string{""}, read: param("pageToken"), write: bodyToken},
			p: strategies.NextToken[user]{
				TokenPath:  "nextPageToken",
				TokenParam: strategies.Query("pageToken"),
				Response:   strategies.Shape[user]{ItemsPath: "items"},
			},
			wantItems: nil, wantStop: paginate.StopNoNextToken, wantReqs: []string{""}},
		{name: "Slack: empty next_cursor ends it", api: tokenAPI{pages: pages, tokens: toks, read: param("cursor"),
			write: func(w http.ResponseWriter, _ *http.Request, items []user, next string) {
				writeJSON(w, 200, map[string]any{"ok": true, "members": items, "response_metadata": map[string]string{"next_cursor": next}})
			}},
			p: strategies.NextToken[user]{
				TokenPath:  "response_metadata.next_cursor",
				TokenParam: strategies.Query("cursor"),
				Response:   strategies.Shape[user]{ItemsPath: "members"},
			},
			wantItems: all, wantStop: paginate.StopNoNextToken},
		{name: "token missing ends it", api: tokenAPI{pages: pages, tokens: toks, read: param("t"),
			write: func(w http.ResponseWriter, _ *http.Request, items []user, next string) {
				body := map[string]any{"items": items}
				if next != "" {
					body["meta"] = map[string]any{"next": next}
				}
				writeJSON(w, 200, body)
			}},
			p: strategies.NextToken[user]{
				TokenPath:  "meta.next",
				TokenParam: strategies.Query("t"),
				Response:   strategies.Shape[user]{ItemsPath: "items"},
			},
			wantItems: all, wantStop: paginate.StopNoNextToken},
		{name: "token in a header, sent in a header", api: tokenAPI{pages: pages, tokens: toks,
			read: func(r *http.Request) string { return r.Header.Get("X-Page-Token") },
			write: func(w http.ResponseWriter, _ *http.Request, items []user, next string) {
				if next != "" {
					w.Header().Set("X-Next-Token", next)
				}
				writeJSON(w, 200, items)
			}},
			p: strategies.NextToken[user]{
				TokenHeader: "X-Next-Token",
				TokenParam:  strategies.Header("X-Page-Token"),
			},
			wantItems: all, wantStop: paginate.StopNoNextToken},
		{name: "has_more false wins over a token", api: tokenAPI{pages: pages, tokens: toks, read: param("t"),
			write: func(w http.ResponseWriter, _ *http.Request, items []user, next string) {
				writeJSON(w, 200, map[string]any{"items": items, "next": next, "has_more": next != "x"})
			}, next: []string{"t2", "t3", "x"}},
			p: strategies.NextToken[user]{
				TokenPath:  "next",
				TokenParam: strategies.Query("t"),
				Response: strategies.Shape[user]{
					ItemsPath:   "items",
					HasMorePath: "has_more",
				},
			},
			wantItems: all, wantStop: paginate.StopHasMoreFalse},
		{name: "an empty page with a token goes on", api: tokenAPI{pages: [][]user{pages[0], {}, pages[1]}, tokens: toks, read: param("pageToken"), write: bodyToken},
			p: strategies.NextToken[user]{
				TokenPath:  "nextPageToken",
				TokenParam: strategies.Query("pageToken"),
				Response:   strategies.Shape[user]{ItemsPath: "items"},
			},
			wantItems: all[:40], wantStop: paginate.StopNoNextToken},
		{name: "first token", api: tokenAPI{pages: pages, tokens: []string{"*", "AoE1", "AoE2"}, read: param("cursorMark"),
			write: func(w http.ResponseWriter, _ *http.Request, items []user, next string) {
				writeJSON(w, 200, map[string]any{"response": map[string]any{"docs": items}, "nextCursorMark": next})
			}},
			p: strategies.NextToken[user]{
				TokenPath:  "nextCursorMark",
				TokenParam: strategies.Query("cursorMark"),
				FirstToken: "*",
				Response:   strategies.Shape[user]{ItemsPath: "response.docs"},
			},
			wantItems: all, wantStop: paginate.StopNoNextToken,
			wantReqs: []string{"cursorMark=%2A", "cursorMark=AoE1", "cursorMark=AoE2"}},
		{name: "absolute next URL in the body", api: tokenAPI{pages: pages, tokens: toks, read: nextURL,
			write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
				var u any
				if next != "" {
					u = absURL(r, next)
				}
				writeJSON(w, 200, map[string]any{"data": items, "next_page_url": u})
			}},
			p: strategies.NextToken[user]{
				NextURLPath: "next_page_url",
				Size:        20,
				SizeParam:   strategies.Query("per_page"),
				Response:    strategies.Shape[user]{ItemsPath: "data"},
			},
			wantItems: all, wantStop: paginate.StopNoNextToken,
			wantReqs: []string{"per_page=20", "page=t2", "page=t3"}},
		{name: "relative next URL in the body", api: tokenAPI{pages: pages, tokens: toks, read: nextURL,
			write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
				var u any
				if next != "" {
					u = "?page=" + next
				}
				writeJSON(w, 200, map[string]any{"data": items, "links": map[string]any{"next": u}})
			}},
			p: strategies.NextToken[user]{
				NextURLPath: "links.next",
				Response:    strategies.Shape[user]{ItemsPath: "data"},
			},
			wantItems: all, wantStop: paginate.StopNoNextToken},
		{name: "Link header", api: tokenAPI{pages: pages, tokens: toks, read: nextURL,
			write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
				w.Header().Add("Link", `</pagination/x?page=1>; rel="first", <https://elsewhere.test/docs>; rel="help"`)
				if next != "" {
					w.Header().Add("Link", `</pagination/x?page=`+next+`&ids=1,2>; rel="next last"; title="a, b"`)
				}
				writeJSON(w, 200, items)
			}},
			p: strategies.NextToken[user]{
				LinkRel: "next",
			},
			wantItems: all, wantStop: paginate.StopNoNextToken,
			wantReqs: []string{"", "page=t2&ids=1,2", "page=t3&ids=1,2"}},
		{name: "token cycle A, B, A", api: tokenAPI{pages: pages, tokens: []string{"", "A", "B"}, next: []string{"A", "B", "A"}, read: param("t"), write: bodyToken},
			p: strategies.NextToken[user]{
				TokenPath:  "nextPageToken",
				TokenParam: strategies.Query("t"),
				Response:   strategies.Shape[user]{ItemsPath: "items"},
			},
			wantItems: all, wantStop: paginate.StopLoopDetected, wantErr: paginate.ErrLoop},
		{name: "next link to itself", api: tokenAPI{pages: pages[:2], tokens: []string{"", "p2"}, next: []string{"p2", "p2"}, read: nextURL,
			write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
				w.Header().Set("Link", `<?page=`+next+`>; rel=next`)
				writeJSON(w, 200, items)
			}},
			p: strategies.NextToken[user]{
				LinkRel: "next",
			},
			wantItems: all[:40], wantStop: paginate.StopLoopDetected, wantErr: paginate.ErrLoop},
		{name: "same page under two tokens", api: tokenAPI{pages: [][]user{pages[0], pages[1], pages[1]}, tokens: toks, read: param("pageToken"), write: bodyToken},
			p: strategies.NextToken[user]{
				TokenPath:  "nextPageToken",
				TokenParam: strategies.Query("pageToken"),
				Response:   strategies.Shape[user]{ItemsPath: "items"},
			}, key: true,
			wantItems: all[:40], wantStop: paginate.StopLoopDetected, wantErr: paginate.ErrLoop},
		{name: "next URL to another host", api: tokenAPI{pages: pages, tokens: toks, read: nextURL,
			write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
				writeJSON(w, 200, map[string]any{"data": items, "next": "http://evil.test/steal?page=" + next})
			}},
			p: strategies.NextToken[user]{
				NextURLPath: "next",
				Response:    strategies.Shape[user]{ItemsPath: "data"},
			},
			wantItems: nil, wantStop: paginate.StopError, wantErr: strategies.ErrOtherOrigin},
		{name: "next URL to another scheme", api: tokenAPI{pages: pages, tokens: toks, read: nextURL,
			write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
				w.Header().Set("Link", "<https://"+r.Host+"/x?page="+next+">; rel=next")
				writeJSON(w, 200, items)
			}},
			p: strategies.NextToken[user]{
				LinkRel: "next",
			},
			wantItems: nil, wantStop: paginate.StopError, wantErr: strategies.ErrOtherOrigin},
		{name: "malformed next URL", api: tokenAPI{pages: pages, tokens: toks, read: nextURL,
			write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
				writeJSON(w, 200, map[string]any{"data": items, "next": "http://[::1"})
			}},
			p: strategies.NextToken[user]{
				NextURLPath: "next",
				Response:    strategies.Shape[user]{ItemsPath: "data"},
			},
			wantItems: nil, wantStop: paginate.StopError, wantErr: strategies.ErrBadJSON},
	}
	for i := range tests {
		tt := &tests[i]
		t.Run(tt.name, func(t *testing.T) {
			srv, q := serve(t, &tt.api)
			p := &tt.p
			p.Request.URL = srv.URL + "/pagination/next_page_url"
			opts := paginate.Options[user]{}
			if tt.key {
				opts.Key = userKey
			}
			got, res, err := runAll(t, paginate.Paginator[user](p), opts)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(ids(tt.wantItems), ids(got)); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
			if res.Stop != tt.wantStop {
				t.Errorf("stop = %v, want %v", res.Stop, tt.wantStop)
			}
			if tt.wantReqs != nil {
				if diff := cmp.Diff(tt.wantReqs, q.list()); diff != "" {
					t.Errorf("requests mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestNextTokenAllowHosts(t *testing.T) {
	other, _ := serve(t, respond(200, nil, `{"data":[{"id":"there"}],"next":null}`))
	srv, q := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"data": []user{{ID: "here"}}, "next": other.URL + "/p2"})
	}))
	p := &strategies.NextToken[user]{
		Request: strategies.Request{
			URL:        srv.URL,
			AllowHosts: []string{strings.TrimPrefix(other.URL, "http://")},
			Header:     http.Header{"X-Api-Key": {"k"}},
		},
		Response:    strategies.Shape[user]{ItemsPath: "data"},
		NextURLPath: "next",
	}
	got, res, err := runAll(t, p, paginate.Options[user]{})
	if err != nil || res.Stop != paginate.StopNoNextToken {
		t.Fatalf("Run = %v, %v", res.Stop, err)
	}
	if diff := cmp.Diff([]string{"here", "there"}, ids(got)); diff != "" {
		t.Errorf("items mismatch (-want +got):\n%s", diff)
	}
	if n := len(q.list()); n != 1 {
		t.Errorf("first host got %d requests, want 1", n)
	}
}

// TestNextTokenSecretsStayOutOfCheckpoints uses an API that echoes the
// api_key in its next URLs: the stored position holds no key, yet every
// request carries it.
func TestNextTokenSecretsStayOutOfCheckpoints(t *testing.T) {
	pages := split(users(40), 20)
	api := &tokenAPI{pages: pages, tokens: []string{"", "2"}, read: nextURL,
		write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
			if r.URL.Query().Get("api_key") != "s3cret" {
				writeJSON(w, 401, map[string]string{"error": "no key"})
				return
			}
			var u any
			if next != "" {
				u = "http://" + r.Host + "/x?api_key=s3cret&page=" + next
			}
			writeJSON(w, 200, map[string]any{"data": items, "next": u})
		}}
	srv, q := serve(t, api)
	p := &strategies.NextToken[user]{
		Request:     strategies.Request{URL: srv.URL + "/x", Query: url.Values{"api_key": {"s3cret"}}},
		Response:    strategies.Shape[user]{ItemsPath: "data"},
		NextURLPath: "next",
	}
	first, err := p.Fetch(context.Background(), paginate.Position{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Next.Token != "/x?page=2" {
		t.Fatalf("next position %q holds the key, or lost the page", first.Next.Token)
	}
	second, err := p.Fetch(context.Background(), first.Next)
	if err != nil || len(second.Items) != 20 || second.More {
		t.Fatalf("second page: %+v, %v", second, err)
	}
	if got := q.list(); got[1] != "page=2&api_key=s3cret" {
		t.Errorf("second request %q, want the key added back", got[1])
	}
}

// TestNextTokenBodyField sends the token in a JSON body by POST, as
// Notion's database query does.
func TestNextTokenBodyField(t *testing.T) {
	pages := split(users(60), 20)
	var bodies []string
	api := &tokenAPI{pages: pages, tokens: []string{"", "c2", "c3"},
		read: func(r *http.Request) string {
			b, _ := io.ReadAll(r.Body)
			bodies = append(bodies, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
			var req struct {
				Page struct {
					Cursor string `json:"start_cursor"`
				} `json:"page"`
			}
			json.Unmarshal(b, &req)
			return req.Page.Cursor
		},
		write: func(w http.ResponseWriter, _ *http.Request, items []user, next string) {
			writeJSON(w, 200, map[string]any{"results": items, "next_cursor": next, "has_more": next != ""})
		}}
	srv, _ := serve(t, api)
	p := &strategies.NextToken[user]{
		Request: strategies.Request{
			URL:  srv.URL + "/v1/databases/d/query",
			Body: map[string]any{"filter": map[string]any{"property": "Done"}, "page": map[string]any{"page_size": 20}},
		},
		Response: strategies.Shape[user]{
			ItemsPath:   "results",
			HasMorePath: "has_more",
		},
		TokenPath:  "next_cursor",
		TokenParam: strategies.Body("page.start_cursor"),
	}
	got, res, err := runAll(t, p, paginate.Options[user]{Concurrency: 1})
	if err != nil || len(got) != 60 || res.Stop != paginate.StopHasMoreFalse {
		t.Fatalf("Run: %d items, %v, %v", len(got), res.Stop, err)
	}
	want := []string{
		`POST application/json {"filter":{"property":"Done"},"page":{"page_size":20}}`,
		`POST application/json {"filter":{"property":"Done"},"page":{"page_size":20,"start_cursor":"c2"}}`,
		`POST application/json {"filter":{"property":"Done"},"page":{"page_size":20,"start_cursor":"c3"}}`,
	}
	if diff := cmp.Diff(want, bodies); diff != "" {
		t.Errorf("request bodies mismatch (-want +got):\n%s", diff)
	}
}

func TestNextTokenBadPosition(t *testing.T) {
	p := &strategies.NextToken[user]{
		Request: strategies.Request{URL: "http://127.0.0.1:1/x"},
		LinkRel: "next",
	}
	for _, pos := range []paginate.Position{{Page: 2}, {Offset: 3}, {Token: "http://[::1"}, {Token: "%zz"}} {
		if _, err := p.Fetch(context.Background(), pos); !errors.Is(err, strategies.ErrBadPosition) {
			t.Errorf("Fetch(%v) error = %v, want ErrBadPosition", pos, err)
		}
	}
	// A stored next URL on another origin, such as a tampered checkpoint,
	// is refused before any request.
	if _, err := p.Fetch(context.Background(), paginate.Position{Token: "http://evil.test/x"}); !errors.Is(err, strategies.ErrOtherOrigin) {
		t.Errorf("Fetch(other origin) error = %v, want ErrOtherOrigin", err)
	}
}

// TestNextTokenCheckpointSurvivesNewHost resumes from a stored next URL
// against the same API on another address, as after a restart on a new
// port: the position is relative to the origin, so it still works there.
func TestNextTokenCheckpointSurvivesNewHost(t *testing.T) {
	pages := split(users(40), 20)
	api := &tokenAPI{pages: pages, tokens: []string{"", "2"}, read: nextURL,
		write: func(w http.ResponseWriter, r *http.Request, items []user, next string) {
			if next != "" {
				w.Header().Set("Link", "<http://"+r.Host+"/v1/users?page="+next+">; rel=next")
			}
			writeJSON(w, 200, items)
		}}
	a, _ := serve(t, api)
	b, qb := serve(t, api)
	first, err := (&strategies.NextToken[user]{
		Request: strategies.Request{URL: a.URL + "/v1/users"},
		LinkRel: "next",
	}).Fetch(context.Background(), paginate.Position{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Next.Token != "/v1/users?page=2" {
		t.Fatalf("stored next URL %q, want it relative to the origin", first.Next.Token)
	}
	second, err := (&strategies.NextToken[user]{
		Request: strategies.Request{URL: b.URL + "/v1/users"},
		LinkRel: "next",
	}).Fetch(context.Background(), first.Next)
	if err != nil || len(second.Items) != 20 || second.More {
		t.Fatalf("resumed on the new host: %+v, %v", second, err)
	}
	if got := qb.list(); len(got) != 1 || got[0] != "page=2" {
		t.Errorf("new host got %q", got)
	}
}
