package strategies_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// salesforce returns a NextToken over the mock API's Salesforce-style
// query, its filter in the X-Updated-Since header and its batch size in
// the query, as the first request only may carry them.
func salesforce(url string) *strategies.NextToken[mockapi.User] {
	return &strategies.NextToken[mockapi.User]{
		Request:     strategies.Request{URL: url + mockapi.PathQueryLocator},
		Response:    strategies.Shape[mockapi.User]{ItemsPath: "records", TotalItemsPath: "totalSize"},
		Window:      strategies.Window[mockapi.User]{SinceParam: strategies.Header("X-Updated-Since"), SinceDefault: "2000-01-01T00:00:00Z"},
		Size:        20,
		SizeParam:   strategies.Query("per_page"),
		NextURLPath: "nextRecordsUrl",
	}
}

// TestNextURLCarriesTheQuery syncs a Salesforce-style query whose next
// URLs (query locators) refuse the filter and the batch size sent again,
// the filter placed in a header: every record is read, since a next URL
// goes without the values the strategy places. With ResendParams they go
// along, and the locator refuses them.
func TestNextURLCarriesTheQuery(t *testing.T) {
	mock := mockapi.New(mockapi.Config{Records: 95, Seed: 8})
	srv := httptest.NewServer(mock)
	defer srv.Close()
	items, res, err := runAll(t, paginate.Paginator[mockapi.User](salesforce(srv.URL)), paginate.Options[mockapi.User]{})
	if err != nil || len(items) != 95 || res.Pages != 5 {
		t.Fatalf("Run: %d records in %d pages, %v; want 95 in 5", len(items), res.Pages, err)
	}
	p := salesforce(srv.URL)
	p.ResendParams = true
	_, _, err = runAll(t, paginate.Paginator[mockapi.User](p), paginate.Options[mockapi.User]{})
	if err == nil || !strings.Contains(err.Error(), "MALFORMED_QUERY") {
		t.Errorf("Run with ResendParams: %v, want the locator's MALFORMED_QUERY", err)
	}
}

// TestExpiredLocatorRestarts syncs the mock API's Salesforce-style query
// incrementally, stops it after two pages as a crash would, changes the
// source (records updated and inserted) and lets every locator expire,
// then runs again: without an Expired rule, that run and every later one
// fail at the dead locator; with the rule, the run restarts the sync from
// its last completed mark and the destination holds every record, as the
// API holds it, with the next sync incremental from the new mark.
func TestExpiredLocatorRestarts(t *testing.T) {
	ctx := context.Background()
	mock := mockapi.New(mockapi.Config{Records: 200, Seed: 11})
	srv := httptest.NewServer(mock)
	defer srv.Close()
	sink := new(paginate.MemorySink[mockapi.User])
	opts := paginate.Options[mockapi.User]{
		Retry:     fast,
		HighWater: func(u mockapi.User) string { return u.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z") },
		Key:       func(u mockapi.User) string { return u.ID },
	}
	if _, err := paginate.Run(ctx, salesforce(srv.URL), sink, opts); err != nil {
		t.Fatal(err)
	}
	mock.Update(30)
	stopped := opts
	stopped.Limits.MaxPages = 1
	if res, err := paginate.Run(ctx, salesforce(srv.URL), sink, stopped); err != nil || res.Checkpoint.Position.Token == "" {
		t.Fatalf("stopped sync: %v, %+v", err, res.Checkpoint)
	}
	mock.Update(10)
	mock.Insert(5)
	mock.ExpireLocators()

	// Without a rule: a 400, on this run and the next.
	for range 2 {
		_, err := paginate.Run(ctx, salesforce(srv.URL), sink, opts)
		if err == nil || errors.Is(err, paginate.ErrPositionExpired) || !strings.Contains(err.Error(), "INVALID_QUERY_LOCATOR") {
			t.Fatalf("without Expired: %v, want the 400 as it is", err)
		}
	}

	p := salesforce(srv.URL)
	p.Expired = []strategies.Expiry{{Status: 400, Body: "INVALID_QUERY_LOCATOR"}}
	res, err := paginate.Run(ctx, p, sink, opts)
	if err != nil || !res.Stop.Complete() || res.Expired == nil || !errors.Is(res.Expired, paginate.ErrPositionExpired) {
		t.Fatalf("with Expired: %v, stop %v, expired %v; want a complete sync that restarted", err, res.Stop, res.Expired)
	}
	latest := map[string]mockapi.User{}
	for _, u := range sink.Items() {
		latest[u.ID] = u
	}
	want := mock.Records()
	if len(latest) != len(want) {
		t.Errorf("the destination holds %d users, want %d", len(latest), len(want))
	}
	for _, u := range want {
		if got, ok := latest[u.ID]; !ok || !got.UpdatedAt.Equal(u.UpdatedAt) {
			t.Errorf("user %s: got %v, want the API's version of %v", u.ID, got.UpdatedAt, u.UpdatedAt)
		}
	}
	if since := res.Checkpoint.Position.Since; since != opts.HighWater(want[len(want)-1]) {
		t.Errorf("the next sync starts from %q, want the newest mark", since)
	}
}
