package strategies_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/jsonl"
	"github.com/pagekit/pagekit/strategies"
)

// hostileAPI is the mock API's token endpoint (which echoes the
// credentials it refuses) in front of a listing that serves its first page
// and answers the second, on every attempt, with the status refuse and a
// body that echoes the whole request: URL, headers and body.
type hostileAPI struct {
	mock   *mockapi.Server
	refuse int

	mu     sync.Mutex
	tokens []string // the bearer tokens the listing got
}

func (a *hostileAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == mockapi.PathToken {
		a.mock.ServeHTTP(w, r)
		return
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		a.mu.Lock()
		a.tokens = append(a.tokens, tok)
		a.mu.Unlock()
	}
	if p := r.URL.Query().Get("page"); p == "" || p == "1" {
		writeJSON(w, 200, map[string]any{"data": users(2), "total_pages": 3})
		return
	}
	body, _ := io.ReadAll(r.Body)
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"error":"refused","you_sent":{"url":%q,"body":%q`, r.URL.String(), body)
	for k, vs := range r.Header {
		fmt.Fprintf(&b, `,%q:%q`, k, strings.Join(vs, ","))
	}
	b.WriteString("}}")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.refuse)
	w.Write(b.Bytes())
}

// credentialWay is one way a credential is given to the library.
type credentialWay struct {
	name string
	// secrets are the credentials, which must show in no output.
	secrets []string
	// oauth is the token endpoint's configuration.
	oauth mockapi.OAuth
	// refuse is the listing's status for its second page.
	refuse int
	// setup gives the paginator its credentials, the token endpoint at
	// tokenURL.
	setup func(h *strategies.Request, tokenURL string)
	// says is a part of the error's text that tells what failed.
	says string
}

const (
	clientSecret = "SECRET-client-0c7f"
	refreshTok   = "rt-given-5a1e"
)

func clientCredentials(tokenURL string, style oauth2.AuthStyle) strategies.Auth {
	return strategies.ClientCredentials(&clientcredentials.Config{ClientID: "cid", ClientSecret: clientSecret,
		TokenURL: tokenURL, AuthStyle: style})
}

var credentialWays = []credentialWay{
	{name: "bearer token", secrets: []string{"bearer-tok-1d2e"}, refuse: 401, says: "401 Unauthorized",
		setup: func(h *strategies.Request, _ string) { h.Auth = strategies.Bearer("bearer-tok-1d2e") }},
	{name: "basic credentials", secrets: []string{"basic-pass-77aa", base64("bob:basic-pass-77aa")}, refuse: 403, says: "403 Forbidden",
		setup: func(h *strategies.Request, _ string) { h.Auth = strategies.Basic("bob", "basic-pass-77aa") }},
	{name: "API key header of any name", secrets: []string{"hdr-key-3c3c"}, refuse: 401, says: "401",
		setup: func(h *strategies.Request, _ string) { h.Auth = strategies.APIKeyHeader("X-Acme", "hdr-key-3c3c") }},
	{name: "API key query parameter of any name", secrets: []string{"qry-key-4b4b"}, refuse: 401, says: "401",
		setup: func(h *strategies.Request, _ string) { h.Auth = strategies.APIKeyQuery("acme", "qry-key-4b4b") }},
	{name: "Request.Secrets", secrets: []string{"listed-9f9f", "listed-hdr-8e8e"}, refuse: 401, says: "401",
		setup: func(h *strategies.Request, _ string) {
			h.Secrets = []string{"tenant", "X-Tenant-Pin"}
			h.Query = url.Values{"tenant": {"listed-9f9f"}}
			h.Header = http.Header{"X-Tenant-Pin": {"listed-hdr-8e8e"}}
		}},
	{name: "AuthFunc credential, not marked", secrets: []string{"func-cred-6d6d"}, refuse: 401, says: "401",
		setup: func(h *strategies.Request, _ string) {
			h.Auth = strategies.AuthFunc(func(r *http.Request) error { r.Header.Set("X-Sig", "v1 func-cred-6d6d"); return nil })
		}},
	{name: "AuthFunc that fails, quoting what it set", secrets: []string{"func-cred-7e7e"}, says: "signer refused",
		setup: func(h *strategies.Request, _ string) {
			h.Auth = strategies.AuthFunc(func(r *http.Request) error {
				if r.URL.Query().Get("page") == "2" {
					r.Header.Set("X-Sig", "func-cred-7e7e")
					return paginate.Permanent(errors.New("signer refused the key func-cred-7e7e"))
				}
				return nil
			})
		}},
	{name: "OAuth2 client secret in the header, token endpoint 400", secrets: []string{clientSecret, base64("cid:" + clientSecret)},
		oauth: mockapi.OAuth{ClientID: "cid", ClientSecret: clientSecret, Fail: 400}, says: "400 Bad Request",
		setup: func(h *strategies.Request, tokenURL string) {
			h.Auth = clientCredentials(tokenURL, oauth2.AuthStyleInHeader)
		}},
	{name: "OAuth2 client secret in the header, token endpoint 401", secrets: []string{clientSecret, base64("cid:" + clientSecret)},
		oauth: mockapi.OAuth{ClientID: "cid", ClientSecret: clientSecret, Fail: 401}, says: "invalid_client",
		setup: func(h *strategies.Request, tokenURL string) {
			h.Auth = clientCredentials(tokenURL, oauth2.AuthStyleInHeader)
		}},
	{name: "OAuth2 client secret in the form, token endpoint 500", secrets: []string{clientSecret},
		oauth: mockapi.OAuth{ClientID: "cid", ClientSecret: clientSecret, Fail: 500}, says: "500",
		setup: func(h *strategies.Request, tokenURL string) {
			h.Auth = clientCredentials(tokenURL, oauth2.AuthStyleInParams)
		}},
	{name: "OAuth2 client secret refused", secrets: []string{clientSecret},
		oauth: mockapi.OAuth{ClientID: "cid", ClientSecret: "SECRET-another"}, says: "invalid_client",
		setup: func(h *strategies.Request, tokenURL string) {
			h.Auth = clientCredentials(tokenURL, oauth2.AuthStyleInParams)
		}},
	{name: "OAuth2 refresh token and client secret, token endpoint 400", secrets: []string{refreshTok, clientSecret},
		oauth: mockapi.OAuth{ClientID: "cid", ClientSecret: clientSecret, Fail: 400}, says: "400",
		setup: func(h *strategies.Request, tokenURL string) {
			h.Auth = strategies.RefreshToken(&oauth2.Config{ClientID: "cid", ClientSecret: clientSecret,
				Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInParams}}, &oauth2.Token{RefreshToken: refreshTok})
		}},
	{name: "OAuth2 access token issued, echoed by the API", secrets: []string{clientSecret}, // and the access token: see accessTokens
		oauth: mockapi.OAuth{ClientID: "cid", ClientSecret: clientSecret}, refuse: 401, says: "401",
		setup: func(h *strategies.Request, tokenURL string) {
			h.Auth = clientCredentials(tokenURL, oauth2.AuthStyleInHeader)
		}},
}

// TestNoCredentialInAnyOutput runs a sync for every way a credential is
// given to the library, against hostile endpoints that echo what they
// get, and looks for the credential in every output: the error with %v
// and %+v, the *HTTPError's and the *oauth2.RetrieveError's fields, the
// slog JSON and text lines, the events, the Result, the stored checkpoint
// and the console's summary. (River's job rows and its UI are checked by
// riverjob's TestNoCredentialInJobs.)
func TestNoCredentialInAnyOutput(t *testing.T) {
	for _, way := range credentialWays {
		t.Run(way.name, func(t *testing.T) {
			api := &hostileAPI{mock: mockapi.New(mockapi.Config{OAuth: way.oauth}), refuse: way.refuse}
			if api.refuse == 0 {
				api.refuse = 500
			}
			srv := httptest.NewServer(api)
			defer srv.Close()
			h := strategies.Request{URL: srv.URL + "/x"}
			way.setup(&h, srv.URL+mockapi.PathToken)
			p := &strategies.PageNumber[user]{Request: h, Response: strategies.Shape[user]{ItemsPath: "data", TotalPagesPath: "total_pages"}}
			outputs := credentialOutputs(t, p)
			// Every access token the endpoint issued is a credential too.
			secrets := append(way.secrets, api.tokens...)
			for channel, text := range outputs {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s holds the credential %q:\n%s", channel, s, text)
					}
				}
			}
			if !strings.Contains(outputs["error"], way.says) {
				t.Errorf("the error does not say what failed (%q): %s", way.says, outputs["error"])
			}
		})
	}
}

// credentialOutputs runs p into a JSON Lines store and returns every
// output of the run, by channel. The run must fail.
func credentialOutputs(t *testing.T, p paginate.Paginator[user]) map[string]string {
	ctx := context.Background()
	dir := t.TempDir()
	logs := new(lockedBuffer)
	logger := slog.New(slog.NewMultiHandler(slog.NewJSONHandler(logs, nil), slog.NewTextHandler(logs, nil)))
	var mu sync.Mutex
	var events []string
	fs := &jsonl.FileStore{Dir: dir}
	res, err := paginate.Run(ctx, p, new(paginate.MemorySink[user]), paginate.Options[user]{
		Stream: "users", Retry: fast, Logger: logger, Store: fs,
		Observe: func(e paginate.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, fmt.Sprintf("%v %+v %s", e, e, must(json.Marshal(e))))
		},
	})
	if err == nil {
		t.Fatal("the sync did not fail")
	}
	logger.Error("sync failed", "err", err, "result", res)
	var summary bytes.Buffer
	console.Summary(&summary, res, err)
	out := map[string]string{
		"error":             err.Error(),
		"error %+v":         fmt.Sprintf("%+v", err),
		"slog lines":        logs.String(),
		"events":            strings.Join(events, "\n"),
		"result":            fmt.Sprintf("%v %+v %s", res, res, must(json.Marshal(res))),
		"stored checkpoint": filesText(t, dir),
		"console summary":   summary.String(),
	}
	var he *strategies.HTTPError
	if errors.As(err, &he) {
		out["HTTPError fields"] = fmt.Sprintf("%s %s %s %s %+v", he.URL, he.Body, he.Status, he.Err, *he)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		f := fmt.Sprintf("%s %s %s %s %+v", re.Body, re.ErrorCode, re.ErrorDescription, re.ErrorURI, *re)
		if re.Response != nil {
			f += fmt.Sprintf(" %+v", *re.Response)
			if rq := re.Response.Request; rq != nil {
				f += fmt.Sprintf(" %+v %v %s", *rq, rq.Header, rq.URL)
			}
		}
		out["RetrieveError fields"] = f
	}
	return out
}
