package strategies

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagekit/pagekit/internal/retryafter"
)

// Sentinel errors, for errors.Is. Most reach the caller inside an
// *[HTTPError] that says which request failed.
var (
	// ErrConfig reports a paginator configuration that cannot work, such
	// as a malformed URL or path, or two token sources at once.
	ErrConfig = errors.New("invalid paginator configuration")
	// ErrBadPosition reports a position this paginator cannot have
	// produced, such as a checkpoint written by a different strategy.
	ErrBadPosition = errors.New("position not valid for this paginator")
	// ErrBodyTooLarge reports a response body over Limits.MaxBody. The body
	// is not read past the limit.
	ErrBodyTooLarge = errors.New("response body too large")
	// ErrNotJSON reports a successful response whose body is not JSON at
	// all, such as an HTML error page served with status 200, or an empty
	// body.
	ErrNotJSON = errors.New("response is not JSON")
	// ErrBadJSON reports a body that starts as JSON but is malformed, or
	// whose values do not fit the types they are decoded into.
	ErrBadJSON = errors.New("malformed JSON response")
	// ErrMissingField reports that the items path is absent from a
	// response. Other paths may be absent: an absent total is unknown,
	// an absent token ends the data.
	ErrMissingField = errors.New("field missing from response")
	// ErrOtherOrigin reports a next URL or a redirect to another scheme or
	// host than Request.URL's, which is refused unless the host is listed in
	// Request.AllowHosts, so that credentials never go to another origin.
	ErrOtherOrigin = errors.New("URL on another origin")
	// ErrPageMismatch reports a response whose page number differs from
	// the page requested, as when a server answers an out-of-range page
	// with its last page.
	ErrPageMismatch = errors.New("server returned another page than requested")
	// ErrTieTooLarge reports that a cursor cannot move past a value
	// because more records share it than one page holds, under an
	// inclusive (>=) filter. The API needs a tie-breaker: a compound
	// cursor (see Cursor.Params) or a larger page.
	ErrTieTooLarge = errors.New("too many records share one cursor value")
	// ErrTooManyItems reports a page with more records than
	// Limits.MaxItems, or whose records, with the lists, maps and
	// pointers nested in them, do not fit in Limits.MaxDecoded's budget.
	// What is past the limit is not decoded.
	ErrTooManyItems = errors.New("too many records in one page")
	// ErrTimeout reports a request that waited longer than one of its
	// Limits.Timeouts: for a connection, for the response headers, or for
	// more of the body. It is retried like any network failure.
	ErrTimeout = errors.New("timed out")
	// ErrSecretUnknown reports a position whose next URL had a secret
	// value taken out before it was stored, which this process cannot put
	// back: neither Request.Query nor Request.Auth supplies the parameter.
	ErrSecretUnknown = errors.New("secret value of a stored next URL unknown")
)

// HTTPError is the error for a request that failed: no response, a status
// outside 2xx, or a 2xx body that could not be used. It names the method and
// the URL with secrets redacted; it never holds request headers.
type HTTPError struct {
	// Method is the request method, such as "GET".
	Method string
	// URL is the request URL with credentials replaced by "REDACTED".
	URL string
	// StatusCode is the response status, 0 when no response arrived.
	StatusCode int
	// Status is the status line, such as "503 Service Unavailable".
	Status string
	// ContentType is the response's Content-Type.
	ContentType string
	// Body holds the first bytes of the response body, at most 512; it
	// is nil when the error is not about the body.
	Body []byte
	// Delay is how long the server asked the client to wait before the
	// next attempt (Retry-After, RateLimit-Reset, X-RateLimit-Reset), zero
	// when it did not say.
	Delay time.Duration
	// Err is the cause when there is one beyond the status: a network
	// error, or an error such as ErrNotJSON about a 2xx body.
	Err error

	// redact masks the secrets of the request in the message.
	redact *redactor
	// hint says which setting sent a parameter the API refused.
	hint string
}

// newHTTPError returns an *HTTPError about req and, when there is one, its
// response, with the URL redacted and the request's secrets noted, so
// that no text the error prints can show them.
func newHTTPError(req *http.Request, resp *http.Response, err error) *HTTPError {
	var rd *redactor
	if ex := exchangeOf(req.Context()); ex != nil {
		rd = ex.redactor()
	} else {
		rd = newRedactor(nil, req, nil)
	}
	herr := &HTTPError{Method: req.Method, URL: rd.url(req.URL), Err: err, redact: rd}
	if resp != nil {
		herr.StatusCode = resp.StatusCode
		herr.Status = statusLine(resp)
		herr.ContentType = resp.Header.Get("Content-Type")
	}
	return herr
}

// redactedError masks the secrets of a request in the text of an error
// about it that did not come from the library, such as Auth's.
type redactedError struct {
	err    error
	redact *redactor
}

func (e *redactedError) Error() string { return e.redact.text(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

// Error describes the request and what went wrong: the method, the redacted
// URL, the status, the cause, the requested delay and the start of the body.
// Every secret value the request carried, and the value of every field
// that looks secret, is masked, in the cause's text and the body too.
func (e *HTTPError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	if e.Status != "" {
		b.WriteString(": ")
		b.WriteString(e.Status)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Delay > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.Delay.String())
		b.WriteByte(')')
	}
	if e.Body != nil {
		if e.ContentType != "" && e.Err != nil {
			b.WriteString(" (Content-Type ")
			b.WriteString(e.ContentType)
			b.WriteByte(')')
		}
		b.WriteString(": body: ")
		if len(e.Body) == 0 {
			b.WriteString("(empty)")
		} else {
			b.WriteString(printable(e.Body))
		}
	}
	if e.hint != "" {
		b.WriteString("; ")
		b.WriteString(e.hint)
	}
	return e.redact.text(b.String())
}

// Unwrap returns the cause, if any.
func (e *HTTPError) Unwrap() error { return e.Err }

// RetryAfter returns the delay the server asked for, which the runner's
// retry policy honours.
func (e *HTTPError) RetryAfter() time.Duration { return e.Delay }

// printable renders a body excerpt on one line: runs of white space become
// one space and other control characters and invalid UTF-8 are escaped.
func printable(p []byte) string {
	var b strings.Builder
	space := false
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		switch {
		case r == ' ' || r == '\n' || r == '\r' || r == '\t':
			if !space {
				b.WriteByte(' ')
			}
			space = true
			p = p[n:]
			continue
		case r == utf8.RuneError && n == 1:
			if len(p) < utf8.UTFMax && !utf8.FullRune(p) {
				b.WriteString("…") // a rune cut by the excerpt's end
				p = nil
				continue
			}
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(p[0]), 16))
		case r < ' ' || r == 0x7f:
			b.WriteString(strconv.QuoteRune(r))
		default:
			b.Write(p[:n])
		}
		space = false
		p = p[n:]
	}
	return strings.TrimSpace(b.String())
}

// retryable reports whether a status is worth another attempt: timeouts,
// too-early, rate limits and server errors other than 501 and 505, and a
// 403 that a rate-limit header explains (as GitHub sends).
func retryable(code int, h http.Header) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return retryafter.RateLimited(code, h) || code >= 500 && code <= 599
}
