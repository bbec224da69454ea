package strategies

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/pagekit/pagekit/internal/retryafter"
	"github.com/pagekit/pagekit/paginate"
)

// A Doer sends an HTTP request and returns its response. *http.Client is a
// Doer; so is any wrapper that records, signs or rate-limits requests.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// The default timeouts, used for the zero fields of Timeouts.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultHeaderTimeout  = 60 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
)

// Timeouts bound how long one attempt may wait on the network. A request
// that runs out of one fails with an error that wraps ErrTimeout and is
// retried by the runner's Retry policy like any network failure. Zero
// fields take the defaults; a negative field means no limit. Header and
// Idle apply with any Client; Connect applies to the default client (a
// Client of your own sets its own dialer's).
type Timeouts struct {
	// Connect bounds opening a TCP connection. Zero means
	// DefaultConnectTimeout (10s). The default client also bounds a TLS
	// handshake at 10 seconds.
	Connect time.Duration
	// Header bounds the wait from sending a request, connecting included,
	// to the response's status and headers. Zero means
	// DefaultHeaderTimeout (60s).
	Header time.Duration
	// Idle bounds each wait for more of the response body, so a server
	// that stalls mid-body fails the attempt however large the body is.
	// Zero means DefaultIdleTimeout (60s).
	Idle time.Duration
}

func (t Timeouts) orDefaults() Timeouts {
	pick := func(d, def time.Duration) time.Duration {
		switch {
		case d < 0:
			return 0
		case d == 0:
			return def
		}
		return d
	}
	return Timeouts{
		Connect: pick(t.Connect, DefaultConnectTimeout),
		Header:  pick(t.Header, DefaultHeaderTimeout),
		Idle:    pick(t.Idle, DefaultIdleTimeout),
	}
}

// defaultTransport is shared by every paginator without a Client, so that
// they pool connections together.
var defaultTransport = &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           dial,
	ForceAttemptHTTP2:     true,
	MaxIdleConns:          256,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ExpectContinueTimeout: time.Second,
}

var dialer = &net.Dialer{KeepAlive: 30 * time.Second}

// dial opens a connection for the default transport, within the connect
// timeout of the paginator whose request asked for it. The transport
// detaches a dial from its request's cancellation, not from its values.
func dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := DefaultConnectTimeout
	if ex := exchangeOf(ctx); ex != nil {
		d = ex.c.timeouts.Connect
	}
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return dialer.DialContext(ctx, network, addr)
}

var defaultClient = &http.Client{
	Transport:     defaultTransport,
	CheckRedirect: checkRedirect,
	// A ceiling for one whole exchange, body included, well above what a
	// 64 MiB page takes on a slow link; Timeouts bound each wait within.
	Timeout: 10 * time.Minute,
}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if ex := exchangeOf(req.Context()); ex != nil {
		if err := ex.c.checkOrigin(req.URL, "redirect"); err != nil {
			return err
		}
	}
	return nil
}

// client is the compiled form of a Request and its Limits.
type client struct {
	doer     Doer
	base     *url.URL
	method   string
	header   http.Header
	auth     Auth
	limiter  *rate.Limiter
	maxBody  int64
	maxItems int
	// maxDecoded is Limits.MaxDecoded: positive, a fixed budget; zero, one
	// in proportion to the body; negative, none.
	maxDecoded int64
	timeouts   Timeouts
	allow      map[string]bool

	prefix string // the base URL without its query
	static string // the static query, encoded, without the dynamic keys
	// names decides which parameters and headers are secret.
	names *secretNames
	// secrets are the static parameters that are secret: they are taken
	// out of next URLs before those are stored in a position, and added
	// back on each request.
	secrets url.Values
	// issued holds the secret values of next URLs by their markers.
	issued *issued
}

// compile checks h and prepares it, within the limits l. dynamic names
// the query parameters the strategy sets itself, which are dropped from the
// static ones.
func (h *Request) compile(l *Limits, dynamic ...string) (*client, error) {
	if h.URL == "" {
		return nil, fmt.Errorf("%w: Request.URL is empty", ErrConfig)
	}
	base, err := url.Parse(h.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: Request.URL: %v", ErrConfig, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("%w: Request.URL %q is not an absolute http or https URL", ErrConfig, redactURL(base))
	}
	c := &client{
		doer:       h.Client,
		base:       base,
		method:     h.Method,
		header:     h.Header.Clone(),
		auth:       h.Auth,
		limiter:    l.Rate,
		maxBody:    l.MaxBody,
		maxItems:   l.MaxItems,
		maxDecoded: l.MaxDecoded,
		timeouts:   l.Timeouts.orDefaults(),
		names:      newSecretNames(h.Secrets, dynamic),
		issued:     newIssued(),
	}
	if c.doer == nil {
		c.doer = defaultClient
	}
	if c.maxBody == 0 {
		c.maxBody = DefaultMaxBody
	}

	if c.header == nil {
		c.header = make(http.Header)
	}
	if c.header.Get("Accept") == "" {
		c.header.Set("Accept", "application/json")
	}
	for _, host := range h.AllowHosts {
		if c.allow == nil {
			c.allow = make(map[string]bool)
		}
		c.allow[strings.ToLower(host)] = true
	}
	q := base.Query()
	for k, vs := range h.Query {
		q[k] = append(q[k][:len(q[k]):len(q[k])], vs...)
	}
	for _, k := range dynamic {
		if k != "" {
			q.Del(k)
		}
	}
	for k, vs := range q {
		if c.names.is(k) {
			if c.secrets == nil {
				c.secrets = make(url.Values)
			}
			c.secrets[k] = vs
		}
	}
	c.static = q.Encode()
	u := *base
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	c.prefix = u.String()
	return c, nil
}

// buildURL returns prefix (the base URL without its query, its path
// template filled) with the static query and then the given key-value
// pairs, in order; empty values are left out.
func (c *client) buildURL(prefix string, kv ...string) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(c.static) + 64)
	b.WriteString(prefix)
	sep := byte('?')
	if c.static != "" {
		b.WriteByte('?')
		b.WriteString(c.static)
		sep = '&'
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == "" || kv[i+1] == "" {
			continue
		}
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	return b.String()
}

// origin returns the scheme and host of u, without the scheme's default
// port, lower-cased.
func origin(u *url.URL) (scheme, host string) {
	scheme = strings.ToLower(u.Scheme)
	host = strings.ToLower(u.Host)
	switch {
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme, host
}

// checkOrigin refuses a URL on another origin than the base URL's, unless
// its host is allowed. what names the URL's role for the message.
func (c *client) checkOrigin(u *url.URL, what string) error {
	bs, bh := origin(c.base)
	s, h := origin(u)
	if s == bs && h == bh {
		return nil
	}
	if (s == "https" || s == "http" && bs == "http") && (c.allow[h] || c.allow[strings.ToLower(u.Hostname())]) {
		return nil
	}
	return fmt.Errorf("%w: %s %s is not on %s://%s; list its host in Request.AllowHosts to follow it",
		ErrOtherOrigin, what, redactURL(u), bs, bh)
}

// request is one request to send.
type request struct {
	method string
	url    string
	body   []byte
	// headers are more headers to send, as name and value pairs, such
	// as a page token.
	headers []string
	// missing names the secret parameters of a stored next URL that the
	// client could not restore: Auth must set them, or the request fails.
	missing []string
}

// exchange is one request and its response, as the client tracks them:
// it carries the client to the redirect check and the dialer, collects the
// values Auth marks secret, and enforces the header and idle timeouts by
// cancelling the request's context.
type exchange struct {
	c      *client
	req    *http.Request
	marked []string
	cancel context.CancelCauseFunc
	ctx    context.Context // the request's context, cancelled with a timeout as its cause
	idle   *time.Timer
}

// timedOut returns the timeout that cancelled the exchange, or nil.
func (ex *exchange) timedOut() error {
	if cause := context.Cause(ex.ctx); errors.Is(cause, ErrTimeout) {
		return cause
	}
	return nil
}

// redactor returns the redactor for the exchange's request.
func (ex *exchange) redactor() *redactor {
	return newRedactor(ex.c.names, ex.req, append(slices.Clip(ex.marked), ex.c.credentials()...))
}

// redactor returns the redactor for a request the client sent.
func (c *client) redactor(req *http.Request) *redactor {
	if ex := exchangeOf(req.Context()); ex != nil {
		return ex.redactor()
	}
	return newRedactor(c.names, req, c.credentials())
}

// credentials returns the credentials Auth holds, if it knows them.
func (c *client) credentials() []string { return credentialsOf(c.auth) }

// send sends r, after the rate limiter, with the static headers and the
// auth hook applied. For a 2xx status it returns the response with its Body
// replaced by a bodyReader, which the caller must close. Any other status
// is an *HTTPError, permanent unless retryable. A 401 is sent once more
// after a refresh when the Auth is a Refresher.
func (c *client) send(ctx context.Context, r request) (*http.Response, *bodyReader, error) {
	resp, br, err := c.sendOnce(ctx, r)
	ref, ok := c.auth.(Refresher)
	var herr *HTTPError
	if !ok || !errors.As(err, &herr) || herr.StatusCode != http.StatusUnauthorized {
		return resp, br, err
	}
	if rerr := ref.Refresh(ctx); rerr != nil {
		return nil, nil, &redactedError{fmt.Errorf("%v; refreshing the credentials: %w", err, rerr),
			newRedactor(c.names, nil, c.credentials())}
	}
	return c.sendOnce(ctx, r)
}

func (c *client) sendOnce(ctx context.Context, r request) (*http.Response, *bodyReader, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, nil, ctxErr
			}
			return nil, nil, fmt.Errorf("rate limiter: %w", err)
		}
	}
	ex := &exchange{c: c}
	ex.ctx, ex.cancel = context.WithCancelCause(context.WithValue(ctx, exchangeKey{}, ex))
	resp, br, err := c.exchange(ex, r)
	if err != nil {
		ex.cancel(nil)
	}
	return resp, br, err
}

func (c *client) exchange(ex *exchange, r request) (*http.Response, *bodyReader, error) {
	req, err := c.newRequest(ex, r)
	if err != nil {
		return nil, nil, err
	}
	var timer *time.Timer
	if d := c.timeouts.Header; d > 0 {
		timer = time.AfterFunc(d, func() {
			ex.cancel(fmt.Errorf("%w: no response headers within %v", ErrTimeout, d))
		})
	}
	resp, err := c.doer.Do(req)
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if t := ex.timedOut(); t != nil {
			err = t
		}
		herr := newHTTPError(req, nil, err)
		if errors.Is(err, ErrOtherOrigin) {
			return nil, nil, paginate.Permanent(herr)
		}
		return nil, nil, herr
	}
	if resp.Request == nil {
		resp.Request = req // a Doer other than *http.Client may leave it out
	}
	br := &bodyReader{rc: resp.Body, max: c.maxBody, ex: ex}
	resp.Body = br
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, c.statusError(req, resp, br)
	}
	if c.maxBody > 0 && resp.ContentLength > c.maxBody {
		br.Close()
		return nil, nil, paginate.Permanent(newHTTPError(req, resp,
			fmt.Errorf("%w: Content-Length %d is over the limit of %d bytes", ErrBodyTooLarge, resp.ContentLength, c.maxBody)))
	}
	return resp, br, nil
}

// newRequest builds the request for r, with the static headers, and runs
// Auth on it.
func (c *client) newRequest(ex *exchange, r request) (*http.Request, error) {
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ex.ctx, method, r.url, body)
	if err != nil {
		return nil, paginate.Permanent(&HTTPError{Method: method, URL: redactString(r.url), Err: err})
	}
	ex.req = req
	for k, vs := range c.header {
		req.Header[k] = slices.Clip(vs)
	}
	if r.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(r.headers); i += 2 {
		req.Header.Set(r.headers[i], r.headers[i+1])
	}
	if c.auth != nil {
		before := viewOf(req)
		err := c.auth.Authenticate(req)
		ex.marked = append(ex.marked, before.set(req)...)
		if err != nil {
			rd := ex.redactor()
			return nil, &redactedError{fmt.Errorf("%s %s: auth: %w", method, rd.url(req.URL), err), rd}
		}
	}
	if err := checkRestored(req, r.missing); err != nil {
		return nil, err
	}
	return req, nil
}

// statusError reads the start of a non-2xx response's body and returns
// the *HTTPError for it, permanent unless the status is worth a retry.
func (c *client) statusError(req *http.Request, resp *http.Response, br *bodyReader) error {
	herr := newHTTPError(req, resp, nil)
	herr.Body = herr.redact.excerpt(readHead(br))
	// Drain a little so that the connection can be reused; a long error
	// page is not worth reading to its end.
	_, _ = io.CopyN(io.Discard, br, 64<<10)
	br.Close()
	if t := br.ex.timedOut(); t != nil && len(herr.Body) < headSize {
		herr.Err = fmt.Errorf("reading the body: %w", t)
	}
	if retryable(resp.StatusCode, resp.Header) {
		herr.Delay = retryafter.Delay(resp.Header, time.Now())
		return herr
	}
	return paginate.Permanent(herr)
}

func statusLine(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}

// headSize is how much of a body an error quotes.
const headSize = 512

func readHead(r io.Reader) []byte {
	p := make([]byte, headSize)
	n, _ := io.ReadFull(r, p)
	return p[:n]
}

// bodyReader wraps a response body: it fails with ErrBodyTooLarge past the
// limit, fails a read that waits longer than the idle timeout, keeps the
// first bytes for error messages, and remembers whether the transport
// failed, which makes an error worth a retry.
type bodyReader struct {
	rc      io.ReadCloser
	ex      *exchange
	n, max  int64
	head    [headSize]byte
	hn      int
	readErr error // the first error other than EOF and ErrBodyTooLarge
	tooBig  bool
	closed  bool
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.tooBig {
		return 0, ErrBodyTooLarge
	}
	if b.max > 0 {
		// Read one byte past the limit at most, to tell a body of
		// exactly max bytes from a longer one.
		if rem := b.max - b.n + 1; int64(len(p)) > rem {
			p = p[:rem]
		}
	}
	n, err := b.timedRead(p)
	if b.hn < len(b.head) {
		b.hn += copy(b.head[b.hn:], p[:n])
	}
	b.n += int64(n)
	if b.max > 0 && b.n > b.max {
		b.tooBig = true
		return n, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, b.max)
	}
	if err != nil && err != io.EOF && b.readErr == nil {
		b.readErr = err
	}
	return n, err
}

// timedRead reads from the body within the idle timeout: a timer armed
// for the read cancels the request's context, which fails the read.
func (b *bodyReader) timedRead(p []byte) (int, error) {
	ex := b.ex
	if ex == nil || ex.c.timeouts.Idle <= 0 {
		return b.rc.Read(p)
	}
	d := ex.c.timeouts.Idle
	if ex.idle == nil {
		ex.idle = time.AfterFunc(d, func() {
			ex.cancel(fmt.Errorf("%w: no body bytes for %v", ErrTimeout, d))
		})
	} else {
		ex.idle.Reset(d)
	}
	n, err := b.rc.Read(p)
	ex.idle.Stop()
	if err != nil && err != io.EOF {
		if t := ex.timedOut(); t != nil {
			err = t
		}
	}
	return n, err
}

// Close closes the body and ends the exchange.
func (b *bodyReader) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.rc.Close()
	if b.ex != nil {
		if b.ex.idle != nil {
			b.ex.idle.Stop()
		}
		b.ex.cancel(nil)
	}
	return err
}

// Head returns the first bytes of the body, reading on to fill them when
// the body was not read that far.
func (b *bodyReader) Head() []byte {
	if b.hn < len(b.head) && !b.tooBig && b.readErr == nil && !b.closed {
		var p [headSize]byte
		for b.hn < len(b.head) {
			n, err := b.Read(p[:len(b.head)-b.hn])
			if n == 0 || err != nil {
				break
			}
		}
	}
	return b.head[:b.hn]
}
