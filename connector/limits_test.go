package connector_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// handlerTransport serves requests with a handler in the calling
// goroutine: no network, so that a synctest bubble's clock can run.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// arrival is one request as a server saw it.
type arrival struct {
	at     time.Time
	host   string
	stream string
	status int
}

// hosts serves the mock API on every host, logs each request, and lets a
// hook answer some requests itself.
type hosts struct {
	api  *mockapi.Server
	mu   sync.Mutex
	log  []arrival
	hook func(a arrival, n int) (status int, header http.Header) // n: the stream's request number
	byS  map[string]int
}

func (h *hosts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := arrival{at: time.Now(), host: r.Host, stream: r.Header.Get("X-Stream"), status: 200}
	h.mu.Lock()
	h.byS[a.stream]++
	n := h.byS[a.stream]
	var status int
	var header http.Header
	if h.hook != nil {
		status, header = h.hook(a, n)
	}
	if status != 0 {
		a.status = status
	}
	h.log = append(h.log, a)
	h.mu.Unlock()
	if status != 0 {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"slow down"}`)
		return
	}
	h.api.ServeHTTP(w, r)
}

func (h *hosts) arrivals() []arrival {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.log)
}

// eventStream is a stream of the event log on host, its requests marked
// with the stream's name.
func eventStream(name, host string, client strategies.Doer) *connector.Stream {
	return connector.NewStream(name, &strategies.NextToken[mockapi.Event]{
		Request:    strategies.Request{URL: "http://" + host + mockapi.PathEvents, Client: client, Header: http.Header{"X-Stream": {name}}},
		Size:       10,
		Response:   strategies.Shape[mockapi.Event]{ItemsPath: "data"},
		TokenPath:  "next_token",
		TokenParam: strategies.Query("next_token"),
	}, newTable[mockapi.Event]("events", "id"), paginate.Options[mockapi.Event]{
		Retry: paginate.Retry{MaxAttempts: 3, BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(10 * time.Millisecond) }},
	})
}

// A 429 with Retry-After on one stream pauses every stream on that host
// until the time it names; a stream on another host goes on. The wait is
// read as the runner's retries read it: seconds, whole or decimal, an HTTP
// date, or a rate-limit reset header.
func TestRetryAfterPausesTheHost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header func() http.Header
	}{
		{"seconds", http.StatusTooManyRequests, func() http.Header { return http.Header{"Retry-After": {"5"}} }},
		{"decimal seconds", http.StatusTooManyRequests, func() http.Header { return http.Header{"Retry-After": {"5.0"}} }},
		{"HTTP date", http.StatusServiceUnavailable, func() http.Header {
			// A date has whole seconds: round up, to pause 5 seconds at least.
			return http.Header{"Retry-After": {time.Now().Add(6 * time.Second).UTC().Format(http.TimeFormat)}}
		}},
		{"RateLimit-Reset", http.StatusTooManyRequests, func() http.Header { return http.Header{"Ratelimit-Reset": {"5"}} }},
		{"X-RateLimit-Reset epoch on a 403", http.StatusForbidden, func() http.Header {
			return http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(time.Now().Add(6*time.Second).Unix(), 10)}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { testRetryAfterPausesTheHost(t, tc.status, tc.header) })
	}
}

func testRetryAfterPausesTheHost(t *testing.T, status int, header func() http.Header) {
	synctest.Test(t, func(t *testing.T) {
		h := &hosts{api: mockapi.New(mockapi.Config{Records: 20, Events: 200, Latency: 50 * time.Millisecond}), byS: map[string]int{}}
		h.hook = func(a arrival, n int) (int, http.Header) {
			if a.stream == "a1" && n == 4 {
				return status, header()
			}
			return 0, nil
		}
		lim := connector.NewLimiter(connector.Limits{InFlight: 8})
		client := &http.Client{Transport: lim.Transport(handlerTransport{h})}
		c, err := connector.New(connector.Config{Limiter: lim},
			eventStream("a1", "a.test", client), eventStream("a2", "a.test", client), eventStream("b", "b.test", client))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Run(t.Context())
		if err != nil || !res.Complete() {
			t.Fatalf("Run: %v (%+v)", err, res)
		}
		log := h.arrivals()
		var pausedAt time.Time
		for _, a := range log {
			if a.status == status {
				pausedAt = a.at // the hook answers at once
			}
		}
		if pausedAt.IsZero() {
			t.Fatalf("no %d was served", status)
		}
		until := pausedAt.Add(5 * time.Second)
		var onA, onB, a2After int
		for _, a := range log {
			switch {
			case a.at.After(pausedAt) && a.at.Before(until) && a.host == "a.test":
				onA++
				t.Errorf("%s requested a.test %v after the Retry-After pause began", a.stream, a.at.Sub(pausedAt))
			case a.at.After(pausedAt) && a.at.Before(until):
				onB++
			case !a.at.Before(until) && a.stream == "a2":
				a2After++
			}
		}
		if onB == 0 || a2After == 0 {
			t.Errorf("during the pause b made %d requests, and after it a2 made %d: want both above 0", onB, a2After)
		}
		if n := lim.Busy(); n != 0 {
			t.Errorf("%d budget slots still taken after the run", n)
		}
	})
}

// Requests to one host never exceed its rate, whatever the number of
// streams; another host has its own.
func TestRatePerHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &hosts{api: mockapi.New(mockapi.Config{Records: 20, Events: 60, Latency: 5 * time.Millisecond}), byS: map[string]int{}}
		lim := connector.NewLimiter(connector.Limits{InFlight: 32, Rate: 10, Hosts: map[string]connector.HostLimit{"b.test": {Rate: 40}}})
		client := &http.Client{Transport: lim.Transport(handlerTransport{h})}
		var streams []*connector.Stream
		for i := range 8 {
			streams = append(streams, eventStream("a"+string(rune('0'+i)), "a.test", client))
		}
		streams = append(streams, eventStream("b0", "b.test", client), eventStream("b1", "b.test", client))
		c, err := connector.New(connector.Config{Limiter: lim}, streams...)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.Run(t.Context()); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		per := map[string][]time.Time{}
		for _, a := range h.arrivals() {
			per[a.host] = append(per[a.host], a.at)
		}
		for host, limit := range map[string]int{"a.test": 10, "b.test": 40} {
			got := maxInWindow(per[host], time.Second)
			if got > limit {
				t.Errorf("%s: %d requests in one second, limit %d", host, got, limit)
			}
			if host == "a.test" && got < limit {
				t.Errorf("%s: at most %d requests in a second, limit %d: the limiter holds back too much", host, got, limit)
			}
			if host == "b.test" && got <= 10 {
				t.Errorf("%s: at most %d requests in a second: it is held to a.test's rate", host, got)
			}
		}
		// 8 streams of 7 pages at 10 a second: about 5.6 s.
		if want := time.Duration(len(per["a.test"])-1) * 100 * time.Millisecond; elapsed < want {
			t.Errorf("run took %v, below the %v the rate allows", elapsed, want)
		}
	})
}

// maxInWindow returns the most times in any window [t, t+d).
func maxInWindow(ts []time.Time, d time.Duration) int {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= d {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// The connector never has more requests in flight than its budget, over
// every stream and partition, and uses all of it.
func TestInFlightBudget(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 120, Seed: 8, Latency: 5 * time.Millisecond}, nil)
	lim := connector.NewLimiter(connector.Limits{InFlight: 5})
	c := e.connector(t, connector.Config{Limiter: lim}, streamOpts{})
	if _, err := c.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if p := e.peak.Load(); p != 5 {
		t.Errorf("the server saw at most %d requests at once, want the budget of 5", p)
	}
	if n := lim.Busy(); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
	e.checkTables(t)

	// Requests outside the connector's fetches take slots of their own
	// through the Limiter's client, and give them back with the body.
	resp, err := lim.Client().Get(e.url + mockapi.PathEvents)
	if err != nil {
		t.Fatal(err)
	}
	if n := lim.Busy(); n != 1 {
		t.Errorf("%d slots taken while a body is open, want 1", n)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n := lim.Busy(); n != 0 {
		t.Errorf("%d slots taken after the body was closed", n)
	}
}

// A paginator that does not send its requests through the Limiter still
// gets the budget, and the connector says the rates do not apply.
func TestBypassWarned(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 20, Events: 30}, nil)
	var log strings.Builder
	var mu sync.Mutex
	logger := newTextLogger(&mu, &log)
	lim := connector.NewLimiter(connector.Limits{Rate: 1000})
	c, err := connector.New(connector.Config{Limiter: lim, Logger: logger}, eventStream("ev", strings.TrimPrefix(e.url, "http://"), nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(log.String(), "do not go through Limiter.Client"); n != 1 {
		t.Errorf("the bypass was logged %d times, want once:\n%s", n, log.String())
	}
}

func TestCancelledRunResumes(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 150, Seed: 12, Latency: 3 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	commits := 0
	cfg := connector.Config{Limiter: connector.NewLimiter(connector.Limits{InFlight: 4}), Observe: func(ev connector.Event) {
		if ev.Kind == connector.EventRun && ev.Partition != "" && ev.Run.Kind == paginate.EventPageCommitted {
			if commits++; commits == 40 {
				cancel()
			}
		}
	}}
	c := e.connector(t, cfg, streamOpts{})
	res, err := c.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Run: %v", err)
	}
	for _, r := range res.Streams {
		if r.Status() != "interrupted" && r.Status() != "complete" {
			t.Errorf("%s: status %s after a cancel", r.Stream, r.Status())
		}
	}
	cfg.Observe = nil
	c = e.connector(t, cfg, streamOpts{})
	res, err = c.Run(t.Context())
	if err != nil || !res.Complete() {
		t.Fatalf("resumed Run: %v", err)
	}
	// The list goes on from the first page of parents not done.
	if orders, _ := res.Stream("orders"); !orders.Resumed && orders.Partitions.Parents >= 150 {
		t.Errorf("orders started over: %+v", orders.Partitions)
	}
	e.checkTables(t)
}
