package detect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody caps a response detect reads.
const maxBody = 64 << 20

// request is one request detect sends.
type request struct {
	method string
	url    *url.URL
	body   []byte // JSON, or nil
}

func (r request) String() string {
	s := r.method + " " + redactURL(r.url)
	if r.body != nil {
		s += " " + string(r.body)
	}
	return s
}

// response is what came back, parsed.
type response struct {
	req    request
	status int
	header http.Header
	doc    any
}

// fetch sends r with the options' headers and parses the JSON body of a
// 2xx response; another status is an error that says what came back.
func (d *detector) fetch(ctx context.Context, r request) (*response, error) {
	d.requests++
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range d.opts.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if r.body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r, redactError(err, r.url))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the body: %w", r, err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("%s: the body is larger than %d MiB", r, maxBody>>20)
	}
	out := &response{req: r, status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, &statusError{req: r, status: resp.Status, body: snippet(b), allow: resp.Header.Get("Allow")}
	}
	doc, err := parseJSON(b)
	if err != nil {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return out, fmt.Errorf("%s: the body is not JSON (%s, %s): %w", r, ct, snippet(b), err)
	}
	out.doc = doc
	return out, nil
}

// statusError is a response with a status other than 2xx.
type statusError struct {
	req    request
	status string
	body   string
	allow  string
}

func (e *statusError) Error() string {
	s := fmt.Sprintf("%s: %s", e.req, e.status)
	if e.body != "" {
		s += ": " + e.body
	}
	return s
}

// snippet returns the start of a body, on one line, for a message.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// redactURL writes u without the values of parameters that may be
// credentials.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	q := c.Query()
	changed := false
	for k := range q {
		if secretName(k) {
			q[k] = []string{"REDACTED"}
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

func redactError(err error, u *url.URL) error {
	msg := strings.ReplaceAll(err.Error(), u.String(), redactURL(u))
	return fmt.Errorf("%s", msg)
}

func newClient() *http.Client {
	return &http.Client{Timeout: 60 * time.Second}
}
