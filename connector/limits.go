package connector

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/pagekit/pagekit/internal/retryafter"
)

// Limits configure what every stream and partition of a connector shares:
// one budget of requests in flight, and one rate limit per host. The zero
// value allows 16 requests in flight and sets no rate limit.
type Limits struct {
	// InFlight is the most requests in flight at once, counted over every
	// fetch of every stream and partition and every request sent through
	// the Limiter's Transport or Client. Zero means 16.
	InFlight int

	// Rate is the most requests a second sent to any one host, each host
	// with a limiter of its own (golang.org/x/time/rate); zero means no
	// limit. Hosts overrides it for particular hosts. Rates apply to
	// requests sent through [Limiter.Client] or [Limiter.Transport].
	Rate float64
	// Burst is how many requests to one host may go at once after a
	// quiet spell. Zero means 1, which spaces the requests to a host
	// evenly and keeps any second from holding more than Rate of them as
	// they are sent (with a hundredth to spare, for the network's jitter),
	// so that the server never counts more.
	Burst int
	// Hosts sets the limit of particular hosts, keyed by host name, or
	// by host:port when the URL has a port that is not its scheme's
	// default.
	Hosts map[string]HostLimit

	// MaxPause caps how long one Retry-After from a host pauses the
	// requests to it. Zero means 2 minutes.
	MaxPause time.Duration
}

// HostLimit is the request rate of one host.
type HostLimit struct {
	// Rate is the most requests a second; zero means no limit.
	Rate float64
	// Burst is as in Limits; zero means 1.
	Burst int
}

// A Limiter enforces [Limits] for every stream of a connector, or of
// several connectors that share it. It is safe for concurrent use.
//
// Streams get the in-flight budget without further ado: the connector
// takes a slot for each fetch. The per-host rates and the Retry-After
// pauses need the requests themselves: build HTTP paginators with
// [Limiter.Client] (strategies.Request.Client) or a client whose transport
// is [Limiter.Transport]. A request answered 429 or 503 with a Retry-After
// (seconds, whole or decimal, or an HTTP date) or a rate-limit reset
// header, or 403 for an exhausted rate limit, then holds back every
// request to that host, from every stream, until the time it names: the
// headers are read as the strategies' retries read them.
type Limiter struct {
	cfg    Limits
	budget *semaphore.Weighted
	size   int64
	busy   atomic.Int64

	mu    sync.Mutex
	hosts map[string]*hostState

	clientOnce sync.Once
	client     *http.Client
}

// hostState is what the requests to one host share.
type hostState struct {
	lim *rate.Limiter // nil: no rate limit
	// With a burst of 1, sent holds the times the last len(sent)
	// requests were sent, oldest at next: a request goes only when the
	// one len(sent) before it went at least span ago.
	sent []time.Time
	next int
	span time.Duration

	mu    sync.Mutex
	until time.Time // paused until then
}

// NewLimiter returns a Limiter for l.
func NewLimiter(l Limits) *Limiter {
	size := int64(l.InFlight)
	if size <= 0 {
		size = 16
	}
	if l.MaxPause <= 0 {
		l.MaxPause = 2 * time.Minute
	}
	return &Limiter{cfg: l, budget: semaphore.NewWeighted(size), size: size, hosts: make(map[string]*hostState)}
}

// InFlight returns the size of the in-flight budget.
func (l *Limiter) InFlight() int { return int(l.size) }

// Busy returns how many slots of the in-flight budget are taken now.
func (l *Limiter) Busy() int { return int(l.busy.Load()) }

// Acquire waits for a slot of the in-flight budget, or until ctx is done.
// The connector acquires slots itself; Acquire is for work outside it that
// must share the budget. Release the slot with Release.
func (l *Limiter) Acquire(ctx context.Context) error {
	if err := l.budget.Acquire(ctx, 1); err != nil {
		return err
	}
	l.busy.Add(1)
	return nil
}

// Release returns a slot taken by Acquire.
func (l *Limiter) Release() {
	l.busy.Add(-1)
	l.budget.Release(1)
}

// Pause holds back every request to host (as in Limits.Hosts) until t, or
// extends a pause already under way to t.
func (l *Limiter) Pause(host string, t time.Time) {
	l.host(strings.ToLower(host)).extend(t)
}

// PausedUntil returns the time requests to host are held back until, or
// the zero time when they are not.
func (l *Limiter) PausedUntil(host string) time.Time {
	h := l.host(strings.ToLower(host))
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Now().Before(h.until) {
		return h.until
	}
	return time.Time{}
}

// rated reports whether any rate limit is configured.
func (l *Limiter) rated() bool { return l.cfg.Rate > 0 || len(l.cfg.Hosts) > 0 }

// host returns the state of the host with this key (see hostKey).
func (l *Limiter) host(key string) *hostState {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.hosts[key]; ok {
		return h
	}
	hl := HostLimit{Rate: l.cfg.Rate, Burst: l.cfg.Burst}
	if c, ok := l.cfg.Hosts[key]; ok {
		hl = c
	} else if name, _, err := net.SplitHostPort(key); err == nil {
		if c, ok := l.cfg.Hosts[name]; ok {
			hl = c
		}
	}
	h := &hostState{}
	if hl.Rate > 0 {
		h.lim = rate.NewLimiter(rate.Limit(hl.Rate), max(hl.Burst, 1))
		if k := max(1, int(hl.Rate)); hl.Burst <= 1 && k <= maxWindow {
			h.sent = make([]time.Time, k)
			// A hundredth more than k/Rate, for the network's jitter.
			h.span = time.Duration(float64(k) / hl.Rate * float64(time.Second) * 1.01)
		}
	}
	l.hosts[key] = h
	return h
}

func (h *hostState) extend(t time.Time) {
	h.mu.Lock()
	if t.After(h.until) {
		h.until = t
	}
	h.mu.Unlock()
}

// maxWindow is the highest rate whose sends are remembered to keep every
// second within it; above it the limiter alone paces.
const maxWindow = 10_000

// waitRate waits for the host's rate limiter. With a burst of 1 it then
// also keeps any Rate consecutive sends at least a second apart (k sends in
// k/Rate for a Rate below 1 or fractional): the limiter hands out times
// 1/Rate apart, and a goroutine woken late for its time goes out right
// before the next one, on time, so that the server could count one more
// than Rate in some second.
func (h *hostState) waitRate(ctx context.Context) error {
	if h.lim == nil {
		return nil
	}
	if err := h.lim.Wait(ctx); err != nil {
		return err
	}
	if h.sent == nil {
		return nil
	}
	for {
		h.mu.Lock()
		now := time.Now()
		wait := h.sent[h.next].Add(h.span).Sub(now)
		if wait <= 0 {
			h.sent[h.next] = now
			h.next = (h.next + 1) % len(h.sent)
			h.mu.Unlock()
			return nil
		}
		h.mu.Unlock()
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (h *hostState) pauseLeft() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return time.Until(h.until)
}

// hostKey returns the lower-cased host of u, without the scheme's default
// port.
func hostKey(u *url.URL) string {
	host := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case u.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return host
}

// A slot is one taken place of the in-flight budget, held by one fetch.
// The fetch's context carries it, so that the Limiter's transport knows
// the request already has its place, and can give the place up while the
// request waits out a host's pause.
type slot struct {
	l    *Limiter
	mu   sync.Mutex
	held bool
	used bool // a request went through the Limiter's transport
}

type slotKey struct{}

// hold takes a slot for one fetch and returns the context to fetch with.
func (l *Limiter) hold(ctx context.Context) (*slot, context.Context, error) {
	if err := l.Acquire(ctx); err != nil {
		return nil, ctx, err
	}
	s := &slot{l: l, held: true}
	return s, context.WithValue(ctx, slotKey{}, s), nil
}

func (s *slot) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.held = false
		s.l.Release()
	}
}

func (s *slot) reacquire(ctx context.Context) error {
	if err := s.l.Acquire(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		s.l.Release() // another request of the fetch took it back first
	}
	s.held = true
	return nil
}

func (s *slot) markUsed() {
	s.mu.Lock()
	s.used = true
	s.mu.Unlock()
}

func (s *slot) wasUsed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// Transport returns an http.RoundTripper that sends each request through
// next (http.DefaultTransport's settings when nil) within the limits: it
// takes a slot of the in-flight budget unless the connector's fetch that
// sends it holds one, waits out the host's pause, waits for the host's rate
// limiter, and, on a 429 or 503 that asks for a wait (or a 403 for an
// exhausted rate limit), pauses every request to the host for that long
// (at most Limits.MaxPause). A request that waits
// out a pause gives its slot up meanwhile, so that other hosts go on.
func (l *Limiter) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = defaultTransport
	}
	return &transport{l: l, next: next}
}

// Client returns an *http.Client whose transport is l.Transport(nil): a
// strategies.Doer to set as strategies.Request.Client. It follows redirects
// only within the request's origin (scheme and host), so that credentials
// never go to another. Every call returns the same client.
func (l *Limiter) Client() *http.Client {
	l.clientOnce.Do(func() {
		l.client = &http.Client{
			Transport:     l.Transport(nil),
			CheckRedirect: sameOrigin,
			// A ceiling for one whole exchange; the context bounds it
			// further.
			Timeout: 10 * time.Minute,
		}
	})
	return l.client
}

// defaultTransport pools connections for every Limiter's client.
var defaultTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = 2 * time.Minute
	return t
}()

// errOtherOrigin refuses a redirect to another origin.
var errOtherOrigin = errors.New("redirect to another origin refused")

func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || hostKey(req.URL) != hostKey(first) {
		return fmt.Errorf("%w: %s://%s", errOtherOrigin, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

type transport struct {
	l    *Limiter
	next http.RoundTripper
}

// RoundTrip sends req within the limits.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	h := t.l.host(hostKey(req.URL))
	s, _ := ctx.Value(slotKey{}).(*slot)
	if s == nil || s.l != t.l {
		// A request outside the connector's fetches: it takes a slot of
		// its own, given back when its body is closed or read to the end.
		s = &slot{l: t.l}
		if err := s.reacquire(ctx); err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := t.send(ctx, req, h, s)
		if err != nil {
			s.release()
			return nil, err
		}
		resp.Body = &releaseBody{ReadCloser: resp.Body, s: s}
		return resp, nil
	}
	s.markUsed()
	return t.send(ctx, req, h, s)
}

// send waits out the host's pause and rate limit, then sends req.
func (t *transport) send(ctx context.Context, req *http.Request, h *hostState, s *slot) (*http.Response, error) {
	for {
		d := h.pauseLeft()
		if d <= 0 {
			break
		}
		s.release()
		err := sleep(ctx, d)
		if err == nil {
			err = s.reacquire(ctx)
		}
		if err != nil {
			closeBody(req)
			return nil, err
		}
	}
	if err := h.waitRate(ctx); err != nil {
		closeBody(req)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("connector: rate limit of %s: %w", req.URL.Host, err)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusServiceUnavailable || retryafter.RateLimited(resp.StatusCode, resp.Header) {
		if d := retryafter.Delay(resp.Header, time.Now()); d > 0 {
			h.extend(time.Now().Add(min(d, t.l.cfg.MaxPause)))
		}
	}
	return resp, nil
}

// closeBody closes a request body that is not sent, as a RoundTripper
// must.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// releaseBody gives a request's slot back when its body is closed or read
// to its end.
type releaseBody struct {
	io.ReadCloser
	s *slot
}

func (b *releaseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.s.release()
	}
	return n, err
}

func (b *releaseBody) Close() error {
	b.s.release()
	return b.ReadCloser.Close()
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
