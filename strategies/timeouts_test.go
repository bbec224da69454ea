package strategies_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// stallServer is a real server on 127.0.0.1 that answers every request
// with head (a raw HTTP response start, possibly empty) and then sends
// nothing more until the test ends.
func stallServer(t *testing.T, head string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				buf := make([]byte, 4096)
				conn.Read(buf) // the request
				conn.Write([]byte(head))
				<-done
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestTimeoutsHold runs each of the time limits against a server that
// stalls where the limit applies: the attempt fails in about the limit with
// a retryable error that wraps ErrTimeout, with the default client and
// with one of the caller's.
func TestTimeoutsHold(t *testing.T) {
	const limit = 200 * time.Millisecond
	tests := []struct {
		name     string
		head     string
		timeouts strategies.Timeouts
		want     string
	}{
		{"no headers", "", strategies.Timeouts{Header: limit}, "no response headers within"},
		{"stalled mid-body", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\":[",
			strategies.Timeouts{Idle: limit}, "no body bytes for"},
		{"stalled mid-error-body", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 1000\r\n\r\nwait",
			strategies.Timeouts{Idle: limit}, "no body bytes for"},
	}
	for _, tt := range tests {
		for _, client := range []strategies.Doer{nil, &http.Client{}} {
			name := tt.name + ", default client"
			if client != nil {
				name = tt.name + ", own client"
			}
			t.Run(name, func(t *testing.T) {
				srv := stallServer(t, tt.head)
				p := &strategies.PageNumber[user]{
					Request:  strategies.Request{URL: srv, Client: client},
					Limits:   strategies.Limits{Timeouts: tt.timeouts},
					Response: strategies.Shape[user]{ItemsPath: "data"},
				}
				start := time.Now()
				_, err := p.Fetch(context.Background(), paginate.Position{})
				took := time.Since(start)
				if !errors.Is(err, strategies.ErrTimeout) || paginate.IsPermanent(err) {
					t.Fatalf("Fetch error = %v, want a retryable ErrTimeout", err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not say %q", err, tt.want)
				}
				if took < limit || took > limit+5*time.Second {
					t.Errorf("failed after %v, want about %v", took, limit)
				}
			})
		}
	}
}

// TestIdleTimeoutIsPerRead: a body that keeps coming, however slowly,
// is read to its end; only a wait for the next bytes is bounded.
func TestIdleTimeoutIsPerRead(t *testing.T) {
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		body := `{"data":[{"id":"a"},{"id":"b"}]}`
		for i := 0; i < len(body); i += 4 {
			w.Write([]byte(body[i:min(i+4, len(body))]))
			w.(http.Flusher).Flush()
			time.Sleep(25 * time.Millisecond) // 9 writes: longer in all than the idle limit
		}
	}))
	p := &strategies.PageNumber[user]{
		Request:  strategies.Request{URL: srv.URL},
		Limits:   strategies.Limits{Timeouts: strategies.Timeouts{Idle: 150 * time.Millisecond}},
		Response: strategies.Shape[user]{ItemsPath: "data"},
	}
	page, err := p.Fetch(context.Background(), paginate.Position{})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("Fetch = %d items, %v", len(page.Items), err)
	}
}

// TestRunStopsWithinMaxElapsed: a run against a server that never answers
// retries after each header timeout and ends at the retry policy's
// MaxElapsed, the first attempt counted, with a *FetchError whose retries
// are exhausted.
func TestRunStopsWithinMaxElapsed(t *testing.T) {
	srv := stallServer(t, "")
	p := &strategies.PageNumber[user]{
		Request:  strategies.Request{URL: srv},
		Limits:   strategies.Limits{Timeouts: strategies.Timeouts{Header: 150 * time.Millisecond}},
		Response: strategies.Shape[user]{ItemsPath: "data"},
	}
	start := time.Now()
	_, _, err := runAll(t, paginate.Paginator[user](p), paginate.Options[user]{
		Retry: paginate.Retry{MaxAttempts: 100, BackOff: noJitter(10 * time.Millisecond), MaxElapsed: 400 * time.Millisecond},
	})
	took := time.Since(start)
	var fe *paginate.FetchError
	if !errors.As(err, &fe) || !errors.Is(err, paginate.ErrRetriesExhausted) {
		t.Fatalf("Run error = %v, want a *FetchError with retries exhausted", err)
	}
	if fe.Attempts < 2 || took > 2*time.Second {
		t.Errorf("%d attempts in %v, want a few within about 400ms", fe.Attempts, took)
	}
}

// TestMaxElapsedIsHard: against a server that never answers, under the
// default 60-second header timeout, a run ends within Retry.MaxElapsed plus
// a second, whichever attempt is in flight when the bound runs out: the
// first (a bound shorter than one attempt), or a later one that started
// just before the bound.
func TestMaxElapsedIsHard(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retry   paginate.Retry
		timeout time.Duration // Timeouts.Header
	}{
		{"the first attempt", paginate.Retry{MaxElapsed: 1500 * time.Millisecond}, 0},
		{"a later attempt", paginate.Retry{MaxAttempts: 100, BackOff: noJitter(10 * time.Millisecond),
			MaxElapsed: 1500 * time.Millisecond}, 1400 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := stallServer(t, "")
			p := &strategies.PageNumber[user]{
				Request:  strategies.Request{URL: srv},
				Limits:   strategies.Limits{Timeouts: strategies.Timeouts{Header: tc.timeout}},
				Response: strategies.Shape[user]{ItemsPath: "data"},
			}
			start := time.Now()
			_, res, err := runAll(t, paginate.Paginator[user](p), paginate.Options[user]{Retry: tc.retry})
			took := time.Since(start)
			t.Logf("%v: %v", took, err)
			if !errors.Is(err, paginate.ErrRetriesExhausted) || res.Stop != paginate.StopError {
				t.Errorf("Run: %v, stop %v; want retries exhausted", err, res.Stop)
			}
			if limit := tc.retry.MaxElapsed + time.Second; took > limit {
				t.Errorf("the run took %v, over MaxElapsed plus a second (%v)", took, limit)
			}
		})
	}
}

// TestDefaultTimeouts documents the defaults.
func TestDefaultTimeouts(t *testing.T) {
	if strategies.DefaultConnectTimeout != 10*time.Second || strategies.DefaultHeaderTimeout != time.Minute ||
		strategies.DefaultIdleTimeout != time.Minute {
		t.Errorf("defaults changed: update docs/security.md and the Timeouts doc comments")
	}
}

// noJitter returns waits from initial, doubling, without jitter.
func noJitter(initial time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff {
		b := paginate.DefaultBackOff()
		b.InitialInterval, b.RandomizationFactor = initial, 0
		return b
	}
}
