package strategies_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// memDoer serves requests with a handler in memory, so that tests can run
// inside a synctest bubble, where time is fake and waits take no time; a
// network server cannot run there.
type memDoer struct{ h http.Handler }

func (d memDoer) Do(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	return rec.Result(), nil // without Request, as a minimal Doer may do
}

// throttled answers the first request with status and header, then serves
// one page of three users.
func throttled(status int, header func() http.Header) http.Handler {
	var calls atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			for k, vs := range header() {
				w.Header()[k] = vs
			}
			writeJSON(w, status, map[string]string{"error": "slow down"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": users(3), "total_pages": 1})
	})
}

// TestRetryAfterWaits drives a paginator through paginate.Run with the
// default retry policy: the wait the server asks for is the wait the run
// makes, to the second of fake time.
func TestRetryAfterWaits(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header func() http.Header
		want   time.Duration
	}{
		{"429 Retry-After seconds", 429, func() http.Header { return http.Header{"Retry-After": {"2"}} }, 2 * time.Second},
		{"429 Retry-After decimal seconds", 429, func() http.Header { return http.Header{"Retry-After": {"2.0"}} }, 2 * time.Second},
		{"503 Retry-After fraction", 503, func() http.Header { return http.Header{"Retry-After": {"1.5"}} }, 1500 * time.Millisecond},
		{"429 RateLimit-Reset seconds", 429, func() http.Header { return http.Header{"Ratelimit-Reset": {"4"}} }, 4 * time.Second},
		{"429 Retry-After HTTP date", 429, func() http.Header {
			return http.Header{"Retry-After": {time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)}}
		}, 3 * time.Second},
		{"503 X-RateLimit-Reset epoch", 503, func() http.Header {
			return http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(time.Now().Add(5*time.Second).Unix(), 10)}}
		}, 5 * time.Second},
		{"403 GitHub rate limit", 403, func() http.Header {
			return http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10)}}
		}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := &strategies.PageNumber[user]{
					Request: strategies.Request{URL: "http://api.test/users", Client: memDoer{throttled(tt.status, tt.header)}},
					Response: strategies.Shape[user]{
						ItemsPath:      "data",
						TotalPagesPath: "total_pages",
					},
				}
				var delays []time.Duration
				sink := new(paginate.MemorySink[user])
				start := time.Now()
				res, err := paginate.Run(context.Background(), p, sink, paginate.Options[user]{Observe: func(e paginate.Event) {
					if e.Kind == paginate.EventRetry {
						delays = append(delays, e.Delay)
					}
				}})
				if err != nil || len(sink.Items()) != 3 || res.Retries != 1 {
					t.Fatalf("Run: %d items, %d retries, %v", len(sink.Items()), res.Retries, err)
				}
				if diff := cmp.Diff([]time.Duration{tt.want}, delays); diff != "" {
					t.Errorf("retry delays mismatch (-want +got):\n%s", diff)
				}
				if waited := time.Since(start); waited != tt.want {
					t.Errorf("the run waited %v, want %v", waited, tt.want)
				}
			})
		})
	}
}

// TestStormExhaustsDefaultRetries runs into endless 503s with the default
// policy: six attempts, then a clear error, all in fake time.
func TestStormExhaustsDefaultRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "down"})
		})
		p := &strategies.Offset[user]{
			Request:  strategies.Request{URL: "http://api.test/users", Client: memDoer{h}},
			Response: strategies.Shape[user]{ItemsPath: "data"},
		}
		start := time.Now()
		res, err := paginate.Run(context.Background(), p, new(paginate.MemorySink[user]), paginate.Options[user]{})
		var fe *paginate.FetchError
		var he *strategies.HTTPError
		if !errors.Is(err, paginate.ErrRetriesExhausted) || !errors.As(err, &fe) || !errors.As(err, &he) {
			t.Fatalf("Run error = %v, want retries exhausted on an *HTTPError", err)
		}
		if fe.Attempts != 6 || calls.Load() != 6 || he.StatusCode != 503 || res.Stop != paginate.StopError {
			t.Errorf("attempts %d, calls %d, status %d, stop %v; want 6, 6, 503, error", fe.Attempts, calls.Load(), he.StatusCode, res.Stop)
		}
		if res.Checkpoint.Position != (paginate.Position{}) {
			t.Errorf("checkpoint moved to %v", res.Checkpoint.Position)
		}
		if waited := time.Since(start); waited <= 0 || waited > 5*time.Minute {
			t.Errorf("the run waited %v in all", waited)
		}
	})
}

// TestLimiterSharedAcrossFetches checks that one limiter paces every
// request of the paginator.
func TestLimiterSharedAcrossFetches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &pageAPI{users: users(50), totalPages: func(n int) int { return n }}
		p := &strategies.PageNumber[user]{
			Request: strategies.Request{
				URL:    "http://api.test/users",
				Client: memDoer{api},
			},
			Limits:    strategies.Limits{Rate: rate.NewLimiter(rate.Every(time.Second), 1)},
			Size:      10,
			SizeParam: strategies.Query("per_page"),
			Response: strategies.Shape[user]{
				ItemsPath:      "data",
				TotalPagesPath: "total_pages",
			},
		}
		start := time.Now()
		_, err := paginate.Run(context.Background(), p, new(paginate.MemorySink[user]), paginate.Options[user]{})
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 4*time.Second {
			t.Errorf("5 requests at 1/s took %v, want 4s", waited)
		}
	})
}
