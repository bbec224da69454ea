package riverjob_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/strategies"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"riverqueue.com/riverui"
)

// TestNoCredentialInJobs runs a connector whose streams authenticate with
// OAuth 2.0 client credentials as River jobs, against the mock API's token
// endpoint, which echoes the credentials it refuses, and against listings
// that echo the access tokens they refuse; then it looks for every
// credential in every column of every river_job row (errors, args,
// metadata) and in River UI's JSON API for each job. (The other outputs are
// checked by strategies' TestNoCredentialInAnyOutput.)
func TestNoCredentialInJobs(t *testing.T) {
	const secret = "SECRET-river-9b1c"
	for _, tc := range []struct {
		name  string
		oauth mockapi.OAuth
		style oauth2.AuthStyle
		// expire makes every access token expire before each listing
		// request, so that the listings refuse, echoing them.
		expire bool
		says   string
	}{
		{"token endpoint 400, secret in the header", mockapi.OAuth{ClientID: "cid", ClientSecret: secret, Fail: 400}, oauth2.AuthStyleInHeader, false, "400 Bad Request"},
		{"token endpoint 401, secret in the form", mockapi.OAuth{ClientID: "cid", ClientSecret: secret, Fail: 401}, oauth2.AuthStyleInParams, false, "401 Unauthorized"},
		{"token endpoint 500", mockapi.OAuth{ClientID: "cid", ClientSecret: secret, Fail: 500}, oauth2.AuthStyleInHeader, false, "500 Internal Server Error"},
		{"access tokens refused", mockapi.OAuth{ClientID: "cid", ClientSecret: secret, Require: true}, oauth2.AuthStyleInHeader, true, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mock := mockapi.New(mockapi.Config{Records: 4, Seed: 3, OrdersPerUser: 2, OAuth: tc.oauth})
			var mu sync.Mutex
			var tokens []string // every access token issued
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
					mu.Lock()
					tokens = append(tokens, tok)
					mu.Unlock()
				}
				if tc.expire && r.URL.Path != mockapi.PathToken {
					mock.ExpireTokens()
				}
				mock.ServeHTTP(w, r)
			}))
			defer srv.Close()

			b := newSQLite(t)
			u, o := b.sinks(t)
			auth := func() strategies.Auth {
				return strategies.ClientCredentials(&clientcredentials.Config{ClientID: "cid", ClientSecret: secret,
					TokenURL: srv.URL + mockapi.PathToken, AuthStyle: tc.style})
			}
			retry := paginate.Retry{MaxAttempts: 2, BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }}
			users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
				Request:  strategies.Request{URL: srv.URL + mockapi.PathPageNumber, Auth: auth()},
				Response: strategies.Shape[mockapi.User]{ItemsPath: "data", TotalPagesPath: "total_pages"},
			}, u, paginate.Options[mockapi.User]{Retry: retry})
			orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
				Parent: users,
				Key:    func(u mockapi.User) string { return u.ID },
				Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
					return &strategies.PageNumber[mockapi.Order]{
						Request:  strategies.Request{URL: srv.URL + mockapi.OrdersPath(url.PathEscape(u.ID)), Auth: auth()},
						Response: strategies.Shape[mockapi.Order]{ItemsPath: "data", TotalPagesPath: "total_pages"},
					}, nil
				},
			}, o, paginate.Options[mockapi.Order]{Retry: retry})
			c, err := connector.New(connector.Config{}, users, orders)
			if err != nil {
				t.Fatal(err)
			}
			s := runJobs(t, b, c, &river.Config{MaxAttempts: 2, RetryPolicy: quickRetry{}})
			client := s.client
			ctx := context.Background()
			finished := s.wait(t, time.Minute)

			// Every column of every job row, as stored.
			rows := s.rows(t, `SELECT id || ' ' || kind || ' ' || state || ' ' || CAST(args AS TEXT) || ' ' || coalesce(CAST(errors AS TEXT), '') || ' ' || CAST(metadata AS TEXT) FROM river_job`)
			stored := strings.Join(rows, "\n")

			// River UI's JSON API, as the UI's pages fetch it.
			ui, err := riverui.NewHandler(&riverui.HandlerOpts{Endpoints: riverui.NewEndpoints(client, nil), Logger: testLogger(t), Prefix: "/riverui"})
			if err != nil {
				t.Fatal(err)
			}
			uctx, ucancel := context.WithCancel(ctx)
			defer ucancel()
			if err := ui.Start(uctx); err != nil {
				t.Fatal(err)
			}
			uiSrv := httptest.NewServer(ui)
			defer uiSrv.Close()
			var api strings.Builder
			get := func(path string) {
				resp, err := uiSrv.Client().Get(uiSrv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("River UI %s: %s %s", path, resp.Status, body)
				}
				fmt.Fprintf(&api, "%s %s\n", path, body)
			}
			for _, state := range []string{"cancelled", "discarded", "completed", "retryable"} {
				get("/riverui/api/jobs?state=" + state)
			}
			for _, j := range finished {
				get(fmt.Sprintf("/riverui/api/jobs/%d", j.ID))
			}

			mu.Lock()
			credentials := append([]string{secret, base64.StdEncoding.EncodeToString([]byte("cid:" + secret))}, tokens...)
			mu.Unlock()
			for name, text := range map[string]string{"river_job rows": stored, "River UI's job API": api.String()} {
				for _, c := range credentials {
					if strings.Contains(text, c) {
						t.Errorf("%s hold the credential %q:\n%s", name, c, text)
					}
				}
			}
			if !strings.Contains(stored, tc.says) || !strings.Contains(api.String(), "REDACTED") {
				t.Errorf("the jobs' errors do not say what failed (%q), masked:\n%s", tc.says, stored)
			}
		})
	}
}

// runJobs enqueues a sync of the connector c, named "shop", and works its
// jobs on a River client of b with the settings of cfg that are set, until
// the test ends.
func runJobs(t *testing.T, b *backend[*sql.Tx], c *connector.Connector, cfg *river.Config) *shop[*sql.Tx] {
	t.Helper()
	ctx := context.Background()
	jobs, err := riverjob.New[*sql.Tx](riverjob.Config{Connectors: map[string]*connector.Connector{"shop": c}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	if err := jobs.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
	cfg.Workers = workers
	cfg.FetchCooldown, cfg.FetchPollInterval = 5*time.Millisecond, 50*time.Millisecond
	cfg.Logger, cfg.TestOnly = testLogger(t), true
	client, err := river.NewClient(b.driver, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		client.StopAndCancel(sctx)
	})
	if _, err := jobs.Enqueue(ctx, client, "shop"); err != nil {
		t.Fatal(err)
	}
	return &shop[*sql.Tx]{b: b, jobs: jobs, client: client}
}

// quickRetry retries a failed job at once.
type quickRetry struct{}

func (quickRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }
