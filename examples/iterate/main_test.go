package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, exampletest.LeakOptions...) }

func testConfig(endpoint string) config {
	return config{
		Flags: console.Flags{URL: endpoint, PerPage: 50, Concurrency: 4},
		Retry: paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxAttempts: 10},
	}
}

// lines returns the lines the dataset prints as, header first.
func lines(users []mockapi.User) []string {
	out := []string{"id updatedAt name email"}
	for _, u := range users {
		out = append(out, strings.Join([]string{u.ID, u.UpdatedAt.Format(time.RFC3339), u.Name, u.Email}, " "))
	}
	return out
}

// printed returns the lines of out with runs of spaces made one.
func printed(out string) []string {
	var got []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		got = append(got, strings.Join(strings.Fields(l), " "))
	}
	return got
}

func TestPrintsEveryRecord(t *testing.T) {
	for _, mock := range []mockapi.Config{
		{Records: 777, Seed: 8},
		{Records: 777, Seed: 8, ErrorRate: 0.2, ThrottleRate: 0.05, RetryAfter: -1, DropRate: 0.05},
	} {
		api := exampletest.Serve(t, mock)
		var out, stderr bytes.Buffer
		n, err := run(context.Background(), testConfig(api.URL+mockapi.PathPageNumber), &out, &stderr)
		if err != nil || n != 777 {
			t.Fatalf("run: %d records, %v; want 777", n, err)
		}
		if !strings.Contains(stderr.String(), "16 pages read") || !strings.Contains(stderr.String(), "stop reason: total reached") {
			t.Errorf("the run's Result is not reported:\n%s", stderr.String())
		}
		// In the API's order, each once, whatever the faults and the
		// parallel fetching.
		if diff := cmp.Diff(lines(api.Records()), printed(out.String())); diff != "" {
			t.Errorf("output differs from the dataset (-dataset +output):\n%s", diff)
		}
	}
}

func TestInProcessMock(t *testing.T) {
	cfg := testConfig("")
	cfg.Mock = mockapi.Config{Records: 99, Seed: 2}
	var out bytes.Buffer
	if _, err := run(context.Background(), cfg, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(lines(mockapi.New(cfg.Mock).Records()), printed(out.String())); diff != "" {
		t.Errorf("output differs from the dataset (-dataset +output):\n%s", diff)
	}
}

// TestLimit: breaking out of the loop stops fetching (TestMain checks that
// no goroutine is left).
func TestLimit(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 5000, Seed: 8})
	cfg := testConfig(api.URL + mockapi.PathPageNumber)
	cfg.Limit = 10
	var out, stderr bytes.Buffer
	n, err := run(context.Background(), cfg, &out, &stderr)
	if err != nil || n != 10 {
		t.Fatalf("run: %d records, %v; want 10", n, err)
	}
	if !strings.Contains(stderr.String(), "0 pages read, 0 retries, stop reason: loop left") {
		t.Errorf("want the Result of a loop left on page 1:\n%s", stderr.String())
	}
	if diff := cmp.Diff(lines(api.Records()[:10]), printed(out.String())); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if reqs := len(api.Requests()); reqs > 1+2*cfg.Concurrency {
		t.Errorf("%d requests for 10 records; fetching did not stop", reqs)
	}
}

// TestError: an error ends the loop with a message naming the request.
func TestError(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 10})
	n, err := run(context.Background(), testConfig(api.URL+"/pagination/nowhere"), &bytes.Buffer{}, &bytes.Buffer{})
	var he *strategies.HTTPError
	if n != 0 || !errors.As(err, &he) || he.StatusCode != 404 || !strings.Contains(err.Error(), "/pagination/nowhere") {
		t.Errorf("run: %d records, %v; want 0 and a 404 naming the URL", n, err)
	}
}
