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

	"github.com/pagekit/pagekit/paginate"
)

// A Doer sends an HTTP request and returns its response. *http.Client is a
// Doer; so is any wrapper that records, signs or rate-limits requests.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// DefaultMaxBody is the response body limit used when HTTP.MaxBody is zero.
const DefaultMaxBody = 64 << 20

// HTTP holds the request settings every strategy shares. It is embedded in
// each strategy's configuration, so its fields are set directly on it.
type HTTP struct {
	// Client sends the requests. Nil means a shared client with connect,
	// TLS-handshake and response-header timeouts, a connection pool sized
	// for parallel fetching, and redirects followed only within the
	// URL's origin and AllowHosts.
	Client Doer

	// URL is the endpoint of the first page. Its query parameters are
	// sent with every request the paginator builds.
	URL string

	// Method is the request method. Empty means GET, or POST for a
	// NextToken that sends a JSON body.
	Method string

	// Query holds parameters added to every request the paginator builds
	// from URL (next URLs served by the API are used as they are).
	// Parameters the strategy sets itself, such as the page number,
	// replace any of the same name here.
	Query url.Values

	// Header holds headers sent with every request.
	Header http.Header

	// Auth, when set, is called on every request, each retry included,
	// after Header is applied, to set credentials. Because the runner
	// rebuilds the request for every attempt, a token refreshed by Auth
	// is used at once. An error from Auth fails the attempt.
	Auth func(*http.Request) error

	// Limiter, when set, is waited on before every request, which caps
	// the request rate of all the paginator's fetches together. Share one
	// Limiter between paginators to cap them all.
	Limiter *rate.Limiter

	// MaxBody caps the size of a response body; a larger body fails with
	// ErrBodyTooLarge without being read whole. Zero means DefaultMaxBody;
	// a negative value means no limit.
	MaxBody int64

	// AllowHosts names hosts other than URL's that next URLs and
	// redirects may lead to, such as "api2.example.com" or
	// "cdn.example.com:8443". Others are refused with ErrOtherOrigin.
	// A next URL to an allowed host may not downgrade https to http.
	AllowHosts []string
}

// defaultTransport is shared by every paginator without a Client, so that
// they pool connections together.
var defaultTransport = &http.Transport{
	Proxy: http.ProxyFromEnvironment,
	DialContext: (&net.Dialer{
		Timeout:   30 * time.Second,
		KeepAlive: 30 * time.Second,
	}).DialContext,
	ForceAttemptHTTP2:     true,
	MaxIdleConns:          256,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: 2 * time.Minute,
	ExpectContinueTimeout: time.Second,
}

var defaultClient = &http.Client{
	Transport:     defaultTransport,
	CheckRedirect: checkRedirect,
	// A ceiling for one whole exchange, body included, well above what a
	// 64 MiB page takes on a slow link; the context bounds it further.
	Timeout: 10 * time.Minute,
}

// originKey carries the paginator's client into the default client's
// redirect check, which has no other way to know the allowed origins.
type originKey struct{}

func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if c, ok := req.Context().Value(originKey{}).(*client); ok {
		if err := c.checkOrigin(req.URL, "redirect"); err != nil {
			return err
		}
	}
	return nil
}

// client is the compiled form of an HTTP configuration.
type client struct {
	doer    Doer
	base    *url.URL
	method  string
	header  http.Header
	auth    func(*http.Request) error
	limiter *rate.Limiter
	maxBody int64
	allow   map[string]bool

	prefix string // the base URL without its query
	static string // the static query, encoded, without the dynamic keys
	// secrets are the static parameters that look like credentials: they
	// are taken out of next URLs before those are stored in a position.
	secrets url.Values
}

// compile checks h and prepares it. dynamic names the query parameters the
// strategy sets itself, which are dropped from the static ones.
func (h *HTTP) compile(dynamic ...string) (*client, error) {
	if h.URL == "" {
		return nil, fmt.Errorf("%w: HTTP.URL is empty", ErrConfig)
	}
	base, err := url.Parse(h.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: HTTP.URL: %v", ErrConfig, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("%w: HTTP.URL %q is not an absolute http or https URL", ErrConfig, redactURL(base))
	}
	c := &client{
		doer:    h.Client,
		base:    base,
		method:  h.Method,
		header:  h.Header.Clone(),
		auth:    h.Auth,
		limiter: h.Limiter,
		maxBody: h.MaxBody,
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
		if secretParam(k) {
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

// buildURL returns the base URL with the static query and then the given
// key-value pairs, in order; empty values are left out.
func (c *client) buildURL(kv ...string) string {
	var b strings.Builder
	b.Grow(len(c.prefix) + len(c.static) + 64)
	b.WriteString(c.prefix)
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
	return fmt.Errorf("%w: %s %s is not on %s://%s; list its host in HTTP.AllowHosts to follow it",
		ErrOtherOrigin, what, redactURL(u), bs, bh)
}

// request is one request to send.
type request struct {
	method string
	url    string
	body   []byte
	// header and value, when set, are one more header to send, such as
	// a page token.
	header, value string
}

// send sends r, after the rate limiter, with the static headers and the
// auth hook applied. For a 2xx status it returns the response with its Body
// replaced by a bodyReader, which the caller must close. Any other status
// is an *HTTPError, permanent unless retryable.
func (c *client) send(ctx context.Context, r request) (*http.Response, *bodyReader, error) {
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, nil, ctxErr
			}
			return nil, nil, fmt.Errorf("rate limiter: %w", err)
		}
	}
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	if c.doer == defaultClient {
		ctx = context.WithValue(ctx, originKey{}, c)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url, body)
	if err != nil {
		return nil, nil, paginate.Permanent(&HTTPError{Method: method, URL: redactString(r.url), Err: err})
	}
	for k, vs := range c.header {
		req.Header[k] = slices.Clip(vs)
	}
	if r.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.header != "" {
		req.Header.Set(r.header, r.value)
	}
	if c.auth != nil {
		if err := c.auth(req); err != nil {
			return nil, nil, fmt.Errorf("%s %s: auth: %w", method, redactURL(req.URL), err)
		}
	}
	resp, err := c.doer.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		herr := &HTTPError{Method: method, URL: redactURL(req.URL), Err: err}
		if errors.Is(err, ErrOtherOrigin) {
			return nil, nil, paginate.Permanent(herr)
		}
		return nil, nil, herr
	}
	if resp.Request == nil {
		resp.Request = req // a Doer other than *http.Client may leave it out
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		herr := &HTTPError{
			Method:      method,
			URL:         redactURL(req.URL),
			StatusCode:  resp.StatusCode,
			Status:      statusLine(resp),
			ContentType: resp.Header.Get("Content-Type"),
		}
		herr.Body = readHead(resp.Body)
		// Drain a little so that the connection can be reused; a long
		// error page is not worth reading to its end.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
		if retryable(resp.StatusCode, resp.Header) {
			herr.Delay = retryDelay(resp.Header, time.Now())
			return nil, nil, herr
		}
		return nil, nil, paginate.Permanent(herr)
	}
	br := &bodyReader{rc: resp.Body, max: c.maxBody}
	resp.Body = br
	if c.maxBody > 0 && resp.ContentLength > c.maxBody {
		resp.Body.Close()
		return nil, nil, paginate.Permanent(&HTTPError{
			Method: method, URL: redactURL(req.URL), StatusCode: resp.StatusCode, Status: statusLine(resp),
			ContentType: resp.Header.Get("Content-Type"),
			Err:         fmt.Errorf("%w: Content-Length %d is over the limit of %d bytes", ErrBodyTooLarge, resp.ContentLength, c.maxBody),
		})
	}
	return resp, br, nil
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
// limit, keeps the first bytes for error messages, and remembers whether
// the transport failed, which makes an error worth a retry.
type bodyReader struct {
	rc      io.ReadCloser
	n, max  int64
	head    [headSize]byte
	hn      int
	readErr error // the first error other than EOF and ErrBodyTooLarge
	tooBig  bool
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
	n, err := b.rc.Read(p)
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

func (b *bodyReader) Close() error { return b.rc.Close() }

// Head returns the first bytes of the body, reading on to fill them when
// the body was not read that far.
func (b *bodyReader) Head() []byte {
	if b.hn < len(b.head) && !b.tooBig && b.readErr == nil {
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
