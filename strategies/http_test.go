package strategies_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// simple returns a page-number paginator over srv with the usual paths.
func simple(srv string) *strategies.PageNumber[user] {
	return &strategies.PageNumber[user]{
		Request: strategies.Request{URL: srv},
		Response: strategies.Shape[user]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}
}

func respond(status int, header http.Header, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

func TestHTTPStatuses(t *testing.T) {
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		status    int
		header    http.Header
		permanent bool
		delay     time.Duration // exact, or the lower bound when delayAbout
		about     bool
	}{
		{"404", 404, nil, true, 0, false},
		{"400", 400, nil, true, 0, false},
		{"401", 401, nil, true, 0, false},
		{"403", 403, nil, true, 0, false},
		{"403 rate limited", 403, http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"5"}}, false, 5 * time.Second, false},
		{"408", 408, nil, false, 0, false},
		{"425", 425, nil, false, 0, false},
		{"429 Retry-After seconds", 429, http.Header{"Retry-After": {"2"}}, false, 2 * time.Second, false},
		{"429 Retry-After date", 429, http.Header{"Retry-After": {date}}, false, 59 * time.Minute, true},
		{"429 RateLimit-Reset", 429, http.Header{"Ratelimit-Reset": {"7"}}, false, 7 * time.Second, false},
		{"500", 500, nil, false, 0, false},
		{"501", 501, nil, true, 0, false},
		{"502", 502, nil, false, 0, false},
		{"503 Retry-After", 503, http.Header{"Retry-After": {"4"}}, false, 4 * time.Second, false},
		{"504", 504, nil, false, 0, false},
		{"302 not followed", 304, nil, true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, respond(tt.status, tt.header, `{"error":"nope"}`))
			_, err := simple(srv.URL).Fetch(context.Background(), paginate.Position{})
			var he *strategies.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("error = %v, want an *HTTPError", err)
			}
			if he.StatusCode != tt.status || paginate.IsPermanent(err) != tt.permanent {
				t.Errorf("status %d permanent %v, want %d %v (%v)", he.StatusCode, paginate.IsPermanent(err), tt.status, tt.permanent, err)
			}
			if d := he.RetryAfter(); tt.about && (d < tt.delay || d > time.Hour) || !tt.about && d != tt.delay {
				t.Errorf("RetryAfter() = %v, want %v", d, tt.delay)
			}
			if tt.status != 304 && !strings.Contains(err.Error(), `body: {"error":"nope"}`) {
				t.Errorf("error %q does not quote the body", err)
			}
		})
	}
}

func TestHTTPBadBodies(t *testing.T) {
	big := `{"data":[` + strings.Repeat(`{"id":"x"},`, 1000) + `{"id":"y"}]}`
	tests := []struct {
		name    string
		h       http.Handler
		maxBody int64
		want    error
		inMsg   string
	}{
		{"HTML with 200", respond(200, http.Header{"Content-Type": {"text/html"}}, "<!doctype html><html><body>Maintenance</body></html>"),
			0, strategies.ErrNotJSON, "(Content-Type text/html): body: <!doctype html><html><body>Maintenance"},
		{"empty 200", respond(200, nil, ""), 0, strategies.ErrNotJSON, "the body is empty"},
		{"malformed JSON", respond(200, nil, `{"data":[{"id":"a"},]}`), 0, strategies.ErrBadJSON, `body: {"data":[{"id":"a"},]}`},
		{"truncated JSON", respond(200, nil, `{"data":[{"id":"a"}`), 0, strategies.ErrBadJSON, "unexpected EOF"},
		{"wrong item type", respond(200, nil, `{"data":[{"id":5}]}`), 0, strategies.ErrBadJSON, "cannot unmarshal number"},
		{"missing items", respond(200, nil, `{"items":[]}`), 0, strategies.ErrMissingField, `"data"`},
		{"wrong total type", respond(200, nil, `{"data":[],"total_pages":"many"}`), 0, strategies.ErrBadJSON, "total pages"},
		{"trailing garbage", respond(200, nil, `{"data":[]}<html>`), 0, strategies.ErrBadJSON, "after the JSON value"},
		{"over the limit, Content-Length", respond(200, http.Header{"Content-Length": {fmt.Sprint(len(big))}}, big), 1000, strategies.ErrBodyTooLarge, "Content-Length"},
		{"over the limit, chunked", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"data":[`))
			for r.Context().Err() == nil { // a body that never ends
				if _, err := w.Write([]byte(`{"id":"x"},`)); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}), 4096, strategies.ErrBodyTooLarge, "over the limit of 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, tt.h)
			p := simple(srv.URL)
			p.Limits.MaxBody = tt.maxBody
			_, err := p.Fetch(context.Background(), paginate.Position{})
			if !errors.Is(err, tt.want) || !paginate.IsPermanent(err) {
				t.Fatalf("error = %v, want a permanent %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.inMsg) {
				t.Errorf("error %q does not contain %q", err, tt.inMsg)
			}
		})
	}
}

func TestHTTPNullItemsIsEmptyPage(t *testing.T) {
	srv, _ := serve(t, respond(200, nil, `{"data":null}`))
	page, err := simple(srv.URL).Fetch(context.Background(), paginate.Position{})
	if err != nil || len(page.Items) != 0 || page.More || page.Stop != paginate.StopEmptyPage {
		t.Fatalf("Fetch = %+v, %v; want an empty last page", page, err)
	}
}

func TestHTTPBodyCutByTransportIsRetried(t *testing.T) {
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\":[")
		buf.Flush()
	}))
	_, err := simple(srv.URL).Fetch(context.Background(), paginate.Position{})
	if err == nil || paginate.IsPermanent(err) {
		t.Fatalf("error = %v, want a retryable error", err)
	}
	if !strings.Contains(err.Error(), "reading the body") {
		t.Errorf("error %q does not say the body was cut", err)
	}
}

func TestHTTPRedactsSecrets(t *testing.T) {
	srv, q := serve(t, respond(401, nil, `{"error":"bad key"}`))
	p := simple(srv.URL + "/x?access_token=tok123")
	p.Request.Query = url.Values{"api_key": {"key456"}, "q": {"visible"}}
	p.Request.Header = http.Header{"X-Api-Key": {"hdr789"}}
	p.Request.Auth = strategies.AuthFunc(func(r *http.Request) error { r.Header.Set("Authorization", "Bearer bearer000"); return nil })
	_, err := p.Fetch(context.Background(), paginate.Position{})
	if err == nil {
		t.Fatal("no error for a 401")
	}
	msg := err.Error()
	for _, secret := range []string{"tok123", "key456", "hdr789", "bearer000"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q leaks %q", msg, secret)
		}
	}
	if !strings.Contains(msg, "access_token=REDACTED") || !strings.Contains(msg, "q=visible") || !strings.Contains(msg, "401 Unauthorized") {
		t.Errorf("error %q does not show the redacted URL and status", msg)
	}
	// The server did get them all.
	r := q.requests()[0]
	got := []string{r.URL.Query().Get("access_token"), r.URL.Query().Get("api_key"), r.Header.Get("X-Api-Key"), r.Header.Get("Authorization"), r.Header.Get("Accept")}
	want := []string{"tok123", "key456", "hdr789", "Bearer bearer000", "application/json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request mismatch (-want +got):\n%s", diff)
	}
}

func TestHTTPNetworkErrorIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	p := simple("http://" + addr + "/x?api_key=secret")
	_, err = p.Fetch(context.Background(), paginate.Position{})
	var he *strategies.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 0 || paginate.IsPermanent(err) {
		t.Fatalf("error = %v, want a retryable *HTTPError without status", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q leaks the key", err)
	}
}

// TestHTTPAuthOnEveryAttempt checks that the auth hook runs again on a
// retry, so a refreshed credential is used.
func TestHTTPAuthOnEveryAttempt(t *testing.T) {
	var calls atomic.Int32
	srv, q := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer t1" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "token expired"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": users(3), "total_pages": 1})
	}))
	p := simple(srv.URL)
	p.Request.Auth = strategies.AuthFunc(func(r *http.Request) error {
		r.Header.Set("Authorization", fmt.Sprintf("Bearer t%d", calls.Add(1)))
		return nil
	})
	got, res, err := runAll(t, p, paginate.Options[user]{})
	if err != nil {
		t.Fatal(err)
	}
	var auths []string
	for _, r := range q.requests() {
		auths = append(auths, r.Header.Get("Authorization"))
	}
	if diff := cmp.Diff([]string{"Bearer t1", "Bearer t2"}, auths); diff != "" {
		t.Errorf("credentials sent mismatch (-want +got):\n%s", diff)
	}
	if len(got) != 3 || res.Retries != 1 {
		t.Errorf("got %d items after %d retries, want 3 after 1", len(got), res.Retries)
	}
}

func TestHTTPAuthError(t *testing.T) {
	srv, q := serve(t, respond(200, nil, `{"data":[]}`))
	p := simple(srv.URL)
	boom := errors.New("token endpoint down")
	p.Request.Auth = strategies.AuthFunc(func(*http.Request) error { return boom })
	if _, err := p.Fetch(context.Background(), paginate.Position{}); !errors.Is(err, boom) {
		t.Fatalf("error = %v, want the auth hook's", err)
	}
	if n := len(q.list()); n != 0 {
		t.Errorf("%d requests sent without credentials", n)
	}
}

func TestHTTPContextCancelledMidRequest(t *testing.T) {
	started := make(chan struct{})
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":[`))
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done() // hold the body open until the client goes
	}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	sink := new(paginate.MemorySink[user])
	res, err := paginate.Run(ctx, simple(srv.URL), sink, paginate.Options[user]{Retry: fast})
	if !errors.Is(err, context.Canceled) || res.Stop != paginate.StopCancelled {
		t.Fatalf("Run = %v, %v; want context.Canceled, cancelled", res.Stop, err)
	}
}

func TestHTTPLimiter(t *testing.T) {
	srv, q := serve(t, respond(200, nil, `{"data":[{"id":"a"}]}`))
	p := simple(srv.URL)
	p.Limits.Rate = rate.NewLimiter(rate.Every(time.Hour), 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := p.Fetch(ctx, paginate.Position{}); err != nil {
		t.Fatal(err)
	}
	// The second request would have to wait an hour: the limiter refuses
	// at once, since that is past the deadline.
	_, err := p.Fetch(ctx, paginate.Position{Page: 2})
	if err == nil || !strings.Contains(err.Error(), "rate limiter") {
		t.Fatalf("error = %v, want the rate limiter's", err)
	}
	if n := len(q.list()); n != 1 {
		t.Errorf("%d requests sent, want 1", n)
	}
}

func TestHTTPRedirects(t *testing.T) {
	other, _ := serve(t, respond(200, nil, `{"data":[{"id":"elsewhere"}]}`))
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/here", http.StatusFound)
			return
		}
		if r.URL.Path == "/here" {
			writeJSON(w, 200, map[string]any{"data": []user{{ID: "here"}}})
			return
		}
		http.Redirect(w, r, other.URL+"/x", http.StatusFound)
	}))
	ctx := context.Background()
	page, err := simple(srv.URL+"/moved").Fetch(ctx, paginate.Position{})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != "here" {
		t.Fatalf("same-origin redirect: %+v, %v", page, err)
	}
	_, err = simple(srv.URL+"/away").Fetch(ctx, paginate.Position{})
	if !errors.Is(err, strategies.ErrOtherOrigin) || !paginate.IsPermanent(err) {
		t.Fatalf("redirect to another host: error = %v, want a permanent ErrOtherOrigin", err)
	}
	p := simple(srv.URL + "/away")
	p.Request.AllowHosts = []string{strings.TrimPrefix(other.URL, "http://")}
	if page, err := p.Fetch(ctx, paginate.Position{}); err != nil || page.Items[0].ID != "elsewhere" {
		t.Fatalf("redirect to an allowed host: %+v, %v", page, err)
	}
}

func TestHTTPDecode(t *testing.T) {
	srv, _ := serve(t, respond(200, http.Header{"X-Total-Count": {"9"}}, "a\nb\n"))
	p := &strategies.PageNumber[string]{
		Request: strategies.Request{URL: srv.URL},
		Response: strategies.Shape[string]{
			TotalItemsHeader: "X-Total-Count",
			Decode: func(resp *http.Response) (strategies.Response[string], error) {
				var r strategies.Response[string]
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					r.Items = append(r.Items, sc.Text())
				}
				return r, sc.Err()
			},
		},
	}
	page, err := p.Fetch(context.Background(), paginate.Position{})
	if err != nil {
		t.Fatal(err)
	}
	want := paginate.Page[string]{Items: []string{"a", "b"}, More: true, Next: paginate.Position{Page: 2, Offset: 2}, TotalItems: 9}
	if diff := cmp.Diff(want, page); diff != "" {
		t.Errorf("page mismatch (-want +got):\n%s", diff)
	}
	p2 := &strategies.PageNumber[string]{
		Request: strategies.Request{URL: srv.URL},
		Response: strategies.Shape[string]{Decode: func(*http.Response) (strategies.Response[string], error) {
			return strategies.Response[string]{}, errors.New("not my format")
		}},
	}
	if _, err := p2.Fetch(context.Background(), paginate.Position{}); err == nil || !paginate.IsPermanent(err) || !strings.Contains(err.Error(), "decode: not my format") {
		t.Errorf("Decode error = %v, want it permanent and named", err)
	}
}

// TestHTTPStormKeepsCheckpoint runs into a 503 storm after the first page:
// the run fails with a clear error after its retries, the checkpoint stays
// on the first page not delivered, and a later run resumes there.
func TestHTTPStormKeepsCheckpoint(t *testing.T) {
	all := users(120)
	var storm atomic.Bool
	api := &pageAPI{users: all, totalPages: func(n int) int { return n }}
	srv, q := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if storm.Load() && r.URL.Query().Get("page") != "1" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "overloaded"})
			return
		}
		api.ServeHTTP(w, r)
	}))
	storm.Store(true)
	p := &strategies.PageNumber[user]{
		Request:   strategies.Request{URL: srv.URL},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[user]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}
	sink := new(paginate.MemorySink[user])
	opts := paginate.Options[user]{Stream: "users", Retry: paginate.Retry{MaxAttempts: 3, BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }}, Concurrency: 1}
	res, err := paginate.Run(context.Background(), p, sink, opts)
	var he *strategies.HTTPError
	if !errors.Is(err, paginate.ErrRetriesExhausted) || !errors.As(err, &he) || he.StatusCode != 503 {
		t.Fatalf("Run error = %v, want retries exhausted on a 503", err)
	}
	if !strings.Contains(err.Error(), "overloaded") {
		t.Errorf("error %q does not quote the server", err)
	}
	wantCP := paginate.Position{Page: 2, Offset: 50}
	if res.Stop != paginate.StopError || res.Checkpoint.Position != wantCP || len(sink.Items()) != 50 {
		t.Fatalf("stop %v, checkpoint %v, %d items; want error, %v, 50", res.Stop, res.Checkpoint.Position, len(sink.Items()), wantCP)
	}
	if n := len(q.list()); n != 1+3 {
		t.Errorf("%d requests, want 4 (one page, three attempts)", n)
	}

	storm.Store(false)
	res, err = paginate.Run(context.Background(), p, sink, opts)
	if err != nil || !res.Resumed || res.Stop != paginate.StopTotalReached {
		t.Fatalf("resume: %+v, %v", res, err)
	}
	if diff := cmp.Diff(ids(all), ids(sink.Items())); diff != "" {
		t.Errorf("items after resume mismatch (-want +got):\n%s", diff)
	}
}

// TestEveryStrategyBadResponses runs each strategy into the same bad
// responses: all share the HTTP layer and must classify alike.
func TestEveryStrategyBadResponses(t *testing.T) {
	strats := map[string]func(url string) paginate.Paginator[user]{
		"page number": func(u string) paginate.Paginator[user] {
			return &strategies.PageNumber[user]{
				Request:  strategies.Request{URL: u},
				Response: strategies.Shape[user]{ItemsPath: "data"},
			}
		},
		"offset": func(u string) paginate.Paginator[user] {
			return &strategies.Offset[user]{
				Request:  strategies.Request{URL: u},
				Response: strategies.Shape[user]{ItemsPath: "data"},
			}
		},
		"cursor": func(u string) paginate.Paginator[user] {
			return &strategies.Cursor[user]{
				Request:     strategies.Request{URL: u},
				Response:    strategies.Shape[user]{ItemsPath: "data"},
				CursorParam: strategies.Query("after"),
				Value:       userKey,
			}
		},
		"next token": func(u string) paginate.Paginator[user] {
			return &strategies.NextToken[user]{
				Request:    strategies.Request{URL: u},
				Response:   strategies.Shape[user]{ItemsPath: "data"},
				TokenPath:  "next",
				TokenParam: strategies.Query("t"),
			}
		},
	}
	bad := []struct {
		name      string
		h         http.Handler
		want      error // nil: an *HTTPError with the status
		permanent bool
		requests  int // through paginate.Run with the fast policy (6 attempts)
	}{
		{"404", respond(404, nil, `{"error":"no such list"}`), nil, true, 1},
		{"HTML 200", respond(200, http.Header{"Content-Type": {"text/html"}}, "<html>oops</html>"), strategies.ErrNotJSON, true, 1},
		{"malformed", respond(200, nil, `{"data":[{]}`), strategies.ErrBadJSON, true, 1},
		{"429", respond(429, http.Header{"Retry-After": {"2"}}, `{"error":"slow down"}`), nil, false, 6},
	}
	for name, newP := range strats {
		for _, b := range bad {
			t.Run(name+"/"+b.name, func(t *testing.T) {
				srv, q := serve(t, b.h)
				_, res, err := runAll(t, newP(srv.URL), paginate.Options[user]{})
				var he *strategies.HTTPError
				if !errors.As(err, &he) || b.want != nil && !errors.Is(err, b.want) {
					t.Fatalf("Run error = %v, want an *HTTPError matching %v", err, b.want)
				}
				if got := errors.Is(err, paginate.ErrRetriesExhausted); got == b.permanent {
					t.Errorf("retries exhausted = %v, want %v (%v)", got, !b.permanent, err)
				}
				if n := len(q.list()); n != b.requests || res.Stop != paginate.StopError {
					t.Errorf("%d requests, stop %v; want %d, error", n, res.Stop, b.requests)
				}
			})
		}
	}
}
