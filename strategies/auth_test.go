package strategies_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// echoAuth answers 200 with one record while want(r) holds, and else
// 500 with a body that quotes the request's credentials back.
func echoAuth(want func(r *http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !want(r) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error":"bad credentials","seen":%q,"query":%q}`, r.Header.Get("Authorization")+r.Header.Get("X-Key"), r.URL.RawQuery)
			return
		}
		writeJSON(w, 200, []user{{ID: "u1"}})
	})
}

// The simple helpers set the credentials where they say, on every
// attempt, and the credentials never show in an error.
func TestAuthHelpers(t *testing.T) {
	tests := []struct {
		name   string
		auth   strategies.Auth
		secret string
		ok     func(r *http.Request) bool
	}{
		{"bearer", strategies.Bearer("tok-b3arer"), "tok-b3arer",
			func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer tok-b3arer" }},
		{"basic", strategies.Basic("ann", "pa55word-x"), "pa55word-x",
			func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "ann" && p == "pa55word-x" }},
		{"api key header", strategies.APIKeyHeader("X-Key", "k3y-in-header"), "k3y-in-header",
			func(r *http.Request) bool { return r.Header.Get("X-Key") == "k3y-in-header" }},
		{"api key query", strategies.APIKeyQuery("k", "k3y-in-query"), "k3y-in-query",
			func(r *http.Request) bool {
				return r.URL.Query().Get("k") == "k3y-in-query" && r.URL.Query().Get("a") == "1"
			}},
		{"chain", strategies.Chain(strategies.APIKeyHeader("X-Key", "k3y-1"), strategies.Bearer("tok-2")), "k3y-1",
			func(r *http.Request) bool {
				return r.Header.Get("X-Key") == "k3y-1" && r.Header.Get("Authorization") == "Bearer tok-2"
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, echoAuth(tt.ok))
			p := &strategies.PageNumber[user]{Request: strategies.Request{URL: srv.URL + "/items?a=1", Auth: tt.auth}}
			page, err := p.Fetch(context.Background(), paginate.Position{})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("Fetch with the credentials: %v, %+v", err, page)
			}
			// The same credentials, refused: the error quotes them back.
			bad, _ := serve(t, echoAuth(func(*http.Request) bool { return false }))
			p = &strategies.PageNumber[user]{Request: strategies.Request{URL: bad.URL + "/items?a=1", Auth: tt.auth}}
			_, err = p.Fetch(context.Background(), paginate.Position{})
			if err == nil || strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %v shows the secret %q", err, tt.secret)
			}
		})
	}
}

// tokenServer is an OAuth 2.0 token endpoint that issues tok1, tok2, ...
// for client credentials or a refresh token, rotating refresh tokens.
type tokenServer struct {
	mu       sync.Mutex
	issued   int
	grants   []string // grant_type and, for refreshes, the refresh token used
	refuse   bool     // answer invalid_grant
	lifetime int      // expires_in, seconds; 0 leaves it out
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	grant := r.Form.Get("grant_type")
	if grant == "refresh_token" {
		grant += ":" + r.Form.Get("refresh_token")
	}
	s.grants = append(s.grants, grant)
	w.Header().Set("Content-Type", "application/json")
	if s.refuse {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant"}`)
		return
	}
	s.issued++
	resp := map[string]any{"access_token": fmt.Sprintf("tok%d", s.issued), "token_type": "Bearer",
		"refresh_token": fmt.Sprintf("rt%d", s.issued)}
	if s.lifetime > 0 {
		resp["expires_in"] = s.lifetime
	}
	json.NewEncoder(w).Encode(resp)
}

func (s *tokenServer) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.grants...)
}

// bearerAPI accepts only the bearer token it holds as valid, and answers 401
// to any other; revoke makes the next token the valid one.
type bearerAPI struct {
	valid atomic.Value // string
	seen  []string
	mu    sync.Mutex
}

func (a *bearerAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	a.seen = append(a.seen, got)
	a.mu.Unlock()
	if got != a.valid.Load().(string) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid token"}`)
		return
	}
	writeJSON(w, 200, []user{{ID: "u1"}})
}

func (a *bearerAPI) tokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// A 401 forces one refresh and one more attempt, with the new token; a
// token the server refuses again fails the fetch, without a loop.
func TestOAuth2Refresh(t *testing.T) {
	ts := &tokenServer{lifetime: 3600}
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	api := new(bearerAPI)
	api.valid.Store("tok1")
	srv, _ := serve(t, api)

	tests := []struct {
		name string
		auth func() strategies.Auth
		want []string // the token endpoint's grants
	}{
		{"client credentials", func() strategies.Auth {
			return strategies.ClientCredentials(&clientcredentials.Config{ClientID: "id", ClientSecret: "s3cret", TokenURL: tokSrv.URL})
		}, []string{"client_credentials", "client_credentials"}},
		{"refresh token", func() strategies.Auth {
			return strategies.RefreshToken(&oauth2.Config{ClientID: "id", ClientSecret: "s3cret",
				Endpoint: oauth2.Endpoint{TokenURL: tokSrv.URL, AuthStyle: oauth2.AuthStyleInParams}}, &oauth2.Token{RefreshToken: "rt0"})
		}, []string{"refresh_token:rt0", "refresh_token:rt1"}}, // the rotated refresh token is used
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.mu.Lock()
			ts.issued, ts.grants = 0, nil
			ts.mu.Unlock()
			api.valid.Store("tok1")
			api.mu.Lock()
			api.seen = nil
			api.mu.Unlock()
			p := &strategies.PageNumber[user]{Request: strategies.Request{URL: srv.URL + "/items", Auth: tt.auth()}}
			if _, err := p.Fetch(context.Background(), paginate.Position{}); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Fetch(context.Background(), paginate.Position{}); err != nil {
				t.Fatal(err) // the cached token
			}
			api.valid.Store("tok2") // tok1 is revoked
			if _, err := p.Fetch(context.Background(), paginate.Position{}); err != nil {
				t.Fatalf("after the revocation: %v", err)
			}
			if diff := cmp.Diff([]string{"tok1", "tok1", "tok1", "tok2"}, api.tokens()); diff != "" {
				t.Errorf("tokens the API saw (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, ts.log()); diff != "" {
				t.Errorf("token requests (-want +got):\n%s", diff)
			}

			api.valid.Store("none will do")
			before := len(api.tokens())
			_, err := p.Fetch(context.Background(), paginate.Position{})
			var herr *strategies.HTTPError
			if !errors.As(err, &herr) || herr.StatusCode != 401 || !paginate.IsPermanent(err) {
				t.Errorf("a token refused after the refresh: %v, want a permanent 401", err)
			}
			if n := len(api.tokens()) - before; n != 2 {
				t.Errorf("%d requests for a refused token, want 2: one refresh, one more attempt", n)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "tok1") || strings.Contains(err.Error(), "tok2") {
				t.Errorf("error %q shows a credential", err)
			}
		})
	}
}

// A token endpoint that refuses the credentials fails the fetch for good,
// without retries and without showing the secret.
func TestOAuth2Refused(t *testing.T) {
	ts := &tokenServer{refuse: true}
	tokSrv := httptest.NewServer(ts)
	defer tokSrv.Close()
	api := new(bearerAPI)
	api.valid.Store("tok1")
	srv, q := serve(t, api)
	p := &strategies.PageNumber[user]{Request: strategies.Request{
		URL: srv.URL + "/items",
		Auth: strategies.ClientCredentials(&clientcredentials.Config{ClientID: "id", ClientSecret: "s3cret-cc", TokenURL: tokSrv.URL,
			AuthStyle: oauth2.AuthStyleInHeader}),
	}}
	res, err := paginate.Run(context.Background(), p, paginate.SinkFunc[user](func(context.Context, []user) error { return nil }),
		paginate.Options[user]{Retry: fast})
	if err == nil || res.Stop != paginate.StopError || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("Run: %v, stop %v; want the token endpoint's invalid_grant", err, res.Stop)
	}
	if len(ts.log()) != 1 || len(q.list()) != 0 || res.Retries != 0 {
		t.Errorf("%d token requests, %d API requests, %d retries; want 1, 0, 0", len(ts.log()), len(q.list()), res.Retries)
	}
	if strings.Contains(err.Error(), "s3cret-cc") {
		t.Errorf("error %q shows the client secret", err)
	}
}

// countingSource is a TokenSource that counts how often it is asked.
type countingSource struct{ n atomic.Int64 }

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.n.Add(1)
	return &oauth2.Token{AccessToken: "tok1", Expiry: time.Now().Add(time.Hour)}, nil
}

// A TokenSource is asked on every attempt, the runner's retries included.
func TestOAuth2AskedEveryAttempt(t *testing.T) {
	var calls atomic.Int64
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, 200, map[string]any{"items": []user{{ID: "u1"}}, "more": false})
	}))
	src := new(countingSource)
	p := &strategies.PageNumber[user]{
		Request:  strategies.Request{URL: srv.URL + "/items", Auth: strategies.OAuth2(src)},
		Response: strategies.Shape[user]{ItemsPath: "items", HasMorePath: "more"},
	}
	res, err := paginate.Run(context.Background(), p, paginate.SinkFunc[user](func(context.Context, []user) error { return nil }),
		paginate.Options[user]{Retry: fast, Concurrency: 1, Prefetch: 1})
	if err != nil || res.Retries != 2 {
		t.Fatalf("Run: %v, %d retries; want 2", err, res.Retries)
	}
	if got := src.n.Load(); got != calls.Load() {
		t.Errorf("the token source was asked %d times for %d requests", got, calls.Load())
	}
}

// An API key sent in the query and echoed in the next URLs the API serves
// stays out of the positions, and a new process resumes with the key its
// Auth sets.
func TestAPIKeyQueryEchoed(t *testing.T) {
	const key = "k3y-echoed-9"
	pages := split(users(6), 2)
	srv, q := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("k") != key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		page := intParam(r, "page", 1)
		next := any(nil)
		if page < len(pages) {
			next = "/items?page=" + string(rune('1'+page)) + "&k=" + key
		}
		writeJSON(w, 200, map[string]any{"data": pages[page-1], "next": next})
	}))
	mk := func() *strategies.NextToken[user] {
		return &strategies.NextToken[user]{
			Request:     strategies.Request{URL: srv.URL + "/items", Auth: strategies.APIKeyQuery("k", key)},
			Response:    strategies.Shape[user]{ItemsPath: "data"},
			NextURLPath: "next",
		}
	}
	first, err := mk().Fetch(context.Background(), paginate.Position{})
	if err != nil || !first.More {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	if strings.Contains(first.Next.Token, key) {
		t.Errorf("position %q holds the key", first.Next.Token)
	}
	got, _, err := runAll(t, paginate.Paginator[user](mk()), paginate.Options[user]{})
	if err != nil || len(got) != 6 {
		t.Fatalf("Run: %d records, %v", len(got), err)
	}
	// A new process resumes from the stored position.
	page, err := mk().Fetch(context.Background(), first.Next)
	if err != nil || len(page.Items) != 2 || page.Items[0].ID != "u0003" {
		t.Errorf("resume in a new process: %+v, %v", page, err)
	}
	for _, raw := range q.list() {
		if !strings.Contains(raw, "k="+key) {
			t.Errorf("a request without the key: %q", raw)
		}
	}
}
