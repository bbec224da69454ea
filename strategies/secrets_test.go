package strategies_test

import (
	"bytes"
	"context"
	b64 "encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/jsonl"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// echoAPI serves two pages by next URL. The first page's next URL is
// what issue returns (the API may put credentials in it); the second page
// fails, first with a 503 and then with a 401, and both error bodies echo
// the request, headers and URL, as some APIs do.
type echoAPI struct {
	issue func(r *http.Request) (next string, link bool)
	mu    sync.Mutex
	fails int
}

func (a *echoAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("page") == "" {
		next, link := a.issue(r)
		body := map[string]any{"data": users(2)}
		if link {
			w.Header().Set("Link", "<"+next+`>; rel="next"`)
		} else {
			body["next"] = next
		}
		writeJSON(w, 200, body)
		return
	}
	a.mu.Lock()
	a.fails++
	status := http.StatusServiceUnavailable
	if a.fails > 1 {
		status = http.StatusUnauthorized
	}
	a.mu.Unlock()
	// The echo comes first, so that the quoted start of the body holds it.
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"you_sent":{"url":%q,"authorization":%q`, r.URL.String(), r.Header.Get("Authorization"))
	for k, vs := range r.Header {
		if k != "Authorization" && k != "Accept-Encoding" && k != "User-Agent" {
			fmt.Fprintf(&b, `,%q:%q`, k, strings.Join(vs, ","))
		}
	}
	fmt.Fprintf(&b, `},"client_secret":"echoed-client-secret-0","text":"denied for Bearer echoed-bearer-0"}`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// secretWay is one way a secret enters a sync.
type secretWay struct {
	name    string
	secrets []string
	setup   func(p *strategies.NextToken[user], api *echoAPI)
}

var secretWays = []secretWay{
	{"Authorization header set by Auth", []string{"auth-header-secret-1"}, func(p *strategies.NextToken[user], _ *echoAPI) {
		p.Request.Auth = strategies.AuthFunc(func(r *http.Request) error { r.Header.Set("Authorization", "Bearer auth-header-secret-1"); return nil })
	}},
	{"Basic credentials", []string{"basic-password-2", base64("bob:basic-password-2")}, func(p *strategies.NextToken[user], _ *echoAPI) {
		p.Request.Auth = strategies.AuthFunc(func(r *http.Request) error { r.SetBasicAuth("bob", "basic-password-2"); return nil })
	}},
	{"API key header", []string{"header-key-3"}, func(p *strategies.NextToken[user], _ *echoAPI) {
		p.Request.Header = http.Header{"X-Api-Key": {"header-key-3"}}
	}},
	{"query parameter in the URL", []string{"query-key-4"}, func(p *strategies.NextToken[user], _ *echoAPI) {
		p.Request.URL += "?api_key=query-key-4"
	}},
	{"odd names and case", []string{"odd-5a", "odd-5b", "odd-5c", "odd-5d", "odd-5e"}, func(p *strategies.NextToken[user], _ *echoAPI) {
		p.Request.Query = url.Values{"subscription-key": {"odd-5a"}, "APPKEY": {"odd-5b"}, "License_Key": {"odd-5c"},
			"Auth_Key": {"odd-5d"}, "client_key": {"odd-5e"}}
	}},
	{"name listed in Request.Secrets", []string{"listed-6a", "listed-6b"}, func(p *strategies.NextToken[user], _ *echoAPI) {
		p.Request.Secrets = []string{"Tenant-PIN", "x-tenant"}
		p.Request.Query = url.Values{"tenant-pin": {"listed-6a"}}
		p.Request.Header = http.Header{"X-Tenant": {"listed-6b"}}
	}},
	{"value marked by Auth", []string{"marked-7"}, func(p *strategies.NextToken[user], _ *echoAPI) {
		p.Request.Auth = strategies.AuthFunc(func(r *http.Request) error {
			r.Header.Set("X-Custom", "marked-7")
			strategies.MarkSecret(r, "marked-7")
			return nil
		})
	}},
	{"next URL issued by the API", []string{"issued-token-8"}, func(_ *strategies.NextToken[user], api *echoAPI) {
		api.issue = func(*http.Request) (string, bool) { return "/x?page=2&access_token=issued-token-8", false }
	}},
	{"Link header issued by the API, odd case", []string{"issued-sig-9", "issued-9b"}, func(p *strategies.NextToken[user], api *echoAPI) {
		p.NextURLPath, p.LinkRel = "", "next"
		api.issue = func(r *http.Request) (string, bool) {
			return "http://" + r.Host + "/x?X-Amz-Signature=issued-sig-9&page=2&ACCESS-TOKEN=issued-9b", true
		}
	}},
	{"API key echoed in the next URL", []string{"echoed-key-10"}, func(p *strategies.NextToken[user], api *echoAPI) {
		p.Request.Query = url.Values{"key": {"echoed-key-10"}}
		api.issue = func(*http.Request) (string, bool) { return "/x?key=echoed-key-10&page=2", false }
	}},
	{"secrets the API echoes unasked", []string{"echoed-client-secret-0", "echoed-bearer-0"}, func(*strategies.NextToken[user], *echoAPI) {}},
}

func base64(s string) string { return b64.StdEncoding.EncodeToString([]byte(s)) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestNoSecretInAnyOutput runs a sync for every way a secret enters it
// (a table of secretWays), into each checkpoint store, and looks for the
// secret in every output: the error's text with %v and %+v, the slog JSON
// and text lines the runner writes and those of the error and result, the
// events, the Result, the HTTPError's fields, and the checkpoint as
// stored, in an SQLite file and in a JSON Lines store.
func TestNoSecretInAnyOutput(t *testing.T) {
	for _, way := range secretWays {
		for _, store := range []string{"sqlite", "jsonl"} {
			t.Run(way.name+", "+store, func(t *testing.T) {
				api := &echoAPI{issue: func(*http.Request) (string, bool) { return "/x?page=2", false }}
				srv, _ := serve(t, api)
				p := &strategies.NextToken[user]{
					Request:     strategies.Request{URL: srv.URL + "/x"},
					Response:    strategies.Shape[user]{ItemsPath: "data"},
					NextURLPath: "next",
				}
				way.setup(p, api)
				outputs := syncOutputs(t, p, store)
				for channel, text := range outputs {
					for _, s := range way.secrets {
						if strings.Contains(text, s) {
							t.Errorf("%s holds the secret %q:\n%s", channel, s, text)
						}
					}
				}
				if !strings.Contains(outputs["error"], "401 Unauthorized") || !strings.Contains(outputs["error"], "you_sent") {
					t.Errorf("the error does not say what failed: %s", outputs["error"])
				}
				if !strings.Contains(outputs["stored checkpoint"], "page=2") {
					t.Errorf("the stored checkpoint lost the next page: %s", outputs["stored checkpoint"])
				}
			})
		}
	}
}

// syncOutputs runs p into a store and returns every output, by channel.
func syncOutputs(t *testing.T, p *strategies.NextToken[user], store string) map[string]string {
	ctx := context.Background()
	dir := t.TempDir()
	logs := new(lockedBuffer)
	logger := slog.New(slog.NewMultiHandler(slog.NewJSONHandler(logs, nil), slog.NewTextHandler(logs, nil)))
	var mu sync.Mutex
	var events []string
	opts := paginate.Options[user]{
		Stream: "users", Retry: fast, Logger: logger,
		Observe: func(e paginate.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, fmt.Sprintf("%v %+v %s", e, e, must(json.Marshal(e))))
		},
	}
	var (
		res      paginate.Result
		err      error
		stored   func() string
		loadBack func() (paginate.Checkpoint, bool, error)
	)
	switch store {
	case "sqlite":
		path := filepath.Join(dir, "w.db")
		db, oerr := sqlite.Open(path)
		if oerr != nil {
			t.Fatal(oerr)
		}
		defer db.Close()
		sink, serr := sqlite.New(ctx, db, schema.Must(schema.Derive[user]("user", "id")), sqlite.Config[user]{})
		if serr != nil {
			t.Fatal(serr)
		}
		defer sink.Close()
		res, err = paginate.Run(ctx, p, sink, opts)
		loadBack = func() (paginate.Checkpoint, bool, error) { return sink.Load(ctx, "users") }
		stored = func() string { return filesText(t, dir) }
	default:
		fs := &jsonl.FileStore{Dir: dir}
		opts.Store = fs
		res, err = paginate.Run(ctx, p, new(paginate.MemorySink[user]), opts)
		loadBack = func() (paginate.Checkpoint, bool, error) { return fs.Load(ctx, "users") }
		stored = func() string { return filesText(t, dir) }
	}
	if err == nil {
		t.Fatal("the sync did not fail on the 401")
	}
	logger.Error("sync failed", "err", err, "result", res)
	logger.Info("result", slog.Any("checkpoint", res.Checkpoint), slog.Any("position", res.Checkpoint.Position))
	cp, _, lerr := loadBack()
	if lerr != nil {
		t.Fatal(lerr)
	}
	out := map[string]string{
		"error":             err.Error(),
		"error %+v":         fmt.Sprintf("%+v", err),
		"slog lines":        logs.String(),
		"events":            strings.Join(events, "\n"),
		"result":            fmt.Sprintf("%v %+v %s", res, res, must(json.Marshal(res))),
		"loaded checkpoint": fmt.Sprintf("%+v %s", cp, must(json.Marshal(cp))),
		"stored checkpoint": stored() + fmt.Sprintf("%+v", cp),
	}
	var he *strategies.HTTPError
	if errors.As(err, &he) {
		out["HTTPError fields"] = fmt.Sprintf("%s %s %s %s", he.URL, he.Body, he.Status, he.Err)
	} else {
		t.Errorf("error %v holds no *HTTPError", err)
	}
	return out
}

// filesText returns the bytes of every file in dir, as text: an SQLite
// database with its write-ahead log, or JSON files.
func filesText(t *testing.T, dir string) string {
	var b strings.Builder
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

// TestIssuedSecretsAfterResume: a next URL with a credential the API
// issued is stored without it; the same paginator puts it back from
// memory, and a new one (a new process, resuming from the checkpoint)
// takes it from Request.Query or Request.Auth, or fails loudly without sending
// the request.
func TestIssuedSecretsAfterResume(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "" {
			writeJSON(w, 200, map[string]any{"data": users(1), "next": "/x?page=2&access_token=issued-1"})
			return
		}
		mu.Lock()
		got = append(got, r.URL.Query().Get("access_token"))
		mu.Unlock()
		writeJSON(w, 200, map[string]any{"data": users(1)})
	}))
	newP := func() *strategies.NextToken[user] {
		return &strategies.NextToken[user]{
			Request:     strategies.Request{URL: srv.URL + "/x"},
			Response:    strategies.Shape[user]{ItemsPath: "data"},
			NextURLPath: "next",
		}
	}
	ctx := context.Background()
	p := newP()
	first, err := p.Fetch(ctx, paginate.Position{})
	if err != nil {
		t.Fatal(err)
	}
	stored := first.Next
	if strings.Contains(stored.Token, "issued-1") || !strings.Contains(stored.Token, "access_token=REDACTED-") {
		t.Fatalf("stored position %q", stored.Token)
	}
	if _, err := p.Fetch(ctx, stored); err != nil {
		t.Fatalf("same paginator: %v", err)
	}

	// A new process: nothing supplies the value.
	_, err = newP().Fetch(ctx, stored)
	if !errors.Is(err, strategies.ErrSecretUnknown) || !paginate.IsPermanent(err) || !strings.Contains(err.Error(), "access_token") {
		t.Errorf("resume without the value: error %v, want a permanent ErrSecretUnknown naming access_token", err)
	}

	// A new process with the parameter configured, or set by Auth.
	withQuery := newP()
	withQuery.Request.Query = url.Values{"access_token": {"configured-2"}}
	if _, err := withQuery.Fetch(ctx, stored); err != nil {
		t.Errorf("resume with Request.Query: %v", err)
	}
	withAuth := newP()
	withAuth.Request.Auth = strategies.AuthFunc(func(r *http.Request) error {
		q := r.URL.Query()
		q.Set("access_token", "from-auth-3")
		r.URL.RawQuery = q.Encode()
		return nil
	})
	if _, err := withAuth.Fetch(ctx, stored); err != nil {
		t.Errorf("resume with Request.Auth: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"issued-1", "configured-2", "from-auth-3"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the server got access tokens %q, want %q", got, want)
	}
}

// lockedBuffer is a bytes.Buffer that two handlers may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
