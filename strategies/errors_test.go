package strategies

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.test/v1/x?page=2&api_key=s3cr3t&token=t&access_token=a&key=k&Private-Token=g&ok=1",
			"https://api.test/v1/x?page=2&api_key=REDACTED&token=REDACTED&access_token=REDACTED&key=REDACTED&Private-Token=REDACTED&ok=1"},
		{"https://bob:hunter2@api.test/x#frag", "https://bob:REDACTED@api.test/x"},
		{"https://api.test/x?client_secret=z&sig=q&signature=w&flag", "https://api.test/x?client_secret=REDACTED&sig=REDACTED&signature=REDACTED&flag"},
		{"https://api.test/x?monkey=1&sort_key=name", "https://api.test/x?monkey=1&sort_key=name"},
		{"https://api.test/x?Subscription-Key=a&APPKEY=b&page_token=c&nextPageToken=d&License_Key=e",
			"https://api.test/x?Subscription-Key=REDACTED&APPKEY=REDACTED&page_token=c&nextPageToken=d&License_Key=REDACTED"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := redactURL(u); got != tt.want {
			t.Errorf("redactURL(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestRetryable(t *testing.T) {
	for code, want := range map[int]bool{
		408: true, 425: true, 429: true, 500: true, 502: true, 503: true, 504: true, 520: true,
		400: false, 401: false, 403: false, 404: false, 410: false, 422: false, 501: false, 505: false, 302: false,
	} {
		if got := retryable(code, http.Header{}); got != want {
			t.Errorf("retryable(%d) = %v, want %v", code, got, want)
		}
	}
	if !retryable(403, http.Header{"X-Ratelimit-Remaining": {"0"}}) {
		t.Error("a 403 with X-RateLimit-Remaining: 0 is not retryable")
	}
}

func TestHTTPErrorMessage(t *testing.T) {
	e := &HTTPError{
		Method: "GET", URL: "https://api.test/x?api_key=REDACTED", StatusCode: 503, Status: "503 Service Unavailable",
		Body: []byte("<html>\n\n  <b>down</b>\x01\xff"), Delay: 2 * time.Second,
	}
	want := `GET https://api.test/x?api_key=REDACTED: 503 Service Unavailable (retry after 2s): body: <html> <b>down</b>'\x01'\xff`
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	e = &HTTPError{Method: "GET", URL: "http://x", StatusCode: 200, Status: "200 OK", ContentType: "text/html", Err: ErrNotJSON, Body: []byte{}}
	if got := e.Error(); !strings.Contains(got, "200 OK: response is not JSON (Content-Type text/html): body: (empty)") {
		t.Errorf("Error() = %s", got)
	}
	if !errors.Is(e, ErrNotJSON) || e.RetryAfter() != 0 {
		t.Error("HTTPError does not unwrap to its Err")
	}
	e = &HTTPError{Method: "GET", URL: "http://x", StatusCode: 200, Status: "200 OK", ContentType: "application/json", Err: ErrTieTooLarge}
	if got, want := e.Error(), "GET http://x: 200 OK: too many records share one cursor value"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrTieTooLarge) {
		t.Error("HTTPError does not unwrap to its Err")
	}
	// A rune cut by the 512-byte excerpt is shown as an ellipsis.
	if got := printable([]byte("ab\xc3")); got != "ab…" {
		t.Errorf("printable(cut rune) = %q", got)
	}
}

// TestRedactorExcerpt checks the masking of a quoted body: known values in
// their raw, query and JSON forms, a value cut short by the excerpt's end,
// and secret-looking fields of values the client never sent.
func TestRedactorExcerpt(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://api.test/x?odd=v4lue-marked&api_key=k3y%2Fplus", nil)
	req.Header.Set("Authorization", "Bearer t0ken/abc")
	r := newRedactor(newSecretNames([]string{"ODD"}, nil), req, []string{"marked-extra"})
	tests := []struct{ in, want string }{
		{`{"auth":"Bearer t0ken/abc"}`, `{"auth":"REDACTED"}`},
		{`{"echo":"t0ken\/abc"}`, `{"echo":"REDACTED"}`},
		{`url=/x?api_key=k3y%2Fplus&odd=v4lue-marked`, `url=/x?api_key=REDACTED&odd=REDACTED`},
		{`got k3y/plus and marked-extra`, `got REDACTED and REDACTED`},
		{`{"client_secret":"never-sent","Password" : "p4ss","name":"visible"}`, `{"client_secret":"REDACTED","Password" : "REDACTED","name":"visible"}`},
		{`header Authorization: Basic Ym9iOnB3`, `header Authorization: Basic REDACTED`},
		{`cut short: t0ken/a`, `cut short: REDACTED`},
		{`nothing here: page=2&cursor=abc`, `nothing here: page=2&cursor=abc`},
	}
	for _, tt := range tests {
		if got := string(r.excerpt([]byte(tt.in))); got != tt.want {
			t.Errorf("excerpt(%s)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}
