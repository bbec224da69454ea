// Package retryafter reads how long an HTTP response asks its client to
// wait before the next request: the one rule behind the strategies' retry
// delays and the connector's per-host pauses.
//
// Retry-After is read as seconds, whole or decimal ("2", "2.0", "1.5"), or
// as an HTTP date. Without a usable Retry-After, RateLimit-Reset and
// X-RateLimit-Reset are read as seconds to wait, or as a Unix time in
// seconds or milliseconds when the number is that large: no server asks
// for a wait of years.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Delay returns the wait that h asks for at now, zero when it asks for
// none or says nothing usable. A date or reset time in the past asks for
// no wait.
func Delay(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, ok := decimal(v); ok {
			return seconds(secs)
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	for _, name := range [...]string{"RateLimit-Reset", "X-RateLimit-Reset"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		n, ok := decimal(v)
		if !ok {
			continue
		}
		switch {
		case n >= 1e11:
			return max(time.UnixMilli(int64(n)).Sub(now), 0)
		case n >= 1e8:
			return max(time.Unix(int64(n), 0).Sub(now), 0)
		default:
			return seconds(n)
		}
	}
	return 0
}

// RateLimited reports whether a response of status code with the header
// h says that the client sends too fast: a 429, or a 403 that a
// Retry-After or an exhausted rate-limit header explains (as GitHub
// sends).
func RateLimited(code int, h http.Header) bool {
	switch code {
	case http.StatusTooManyRequests:
		return true
	case http.StatusForbidden:
		return h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0" || h.Get("RateLimit-Remaining") == "0"
	}
	return false
}

// decimal parses a non-negative number of digits with at most one decimal
// point, such as "2", "2.0" or ".5"; exponents, signs, "Inf" and "NaN",
// which strconv.ParseFloat would take, are not delays.
func decimal(s string) (float64, bool) {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return 0, false
		}
	}
	if digits == 0 || dots > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// seconds converts s seconds to a Duration, saturating instead of
// overflowing.
func seconds(s float64) time.Duration {
	const maxSecs = float64(1<<63-1) / float64(time.Second)
	switch {
	case s <= 0:
		return 0
	case s >= maxSecs:
		return 1<<63 - 1
	}
	return time.Duration(s * float64(time.Second))
}
