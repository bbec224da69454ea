package retryafter

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{"spaces", http.Header{"Retry-After": {" 120 "}}, 2 * time.Minute},
		{"decimal", http.Header{"Retry-After": {"2.0"}}, 2 * time.Second},
		{"fraction", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{"leading point", http.Header{"Retry-After": {".25"}}, 250 * time.Millisecond},
		{"trailing point", http.Header{"Retry-After": {"4."}}, 4 * time.Second},
		{"zero", http.Header{"Retry-After": {"0"}}, 0},
		{"negative", http.Header{"Retry-After": {"-1"}}, 0},
		{"exponent", http.Header{"Retry-After": {"1e3"}}, 0},
		{"NaN", http.Header{"Retry-After": {"NaN"}}, 0},
		{"Inf", http.Header{"Retry-After": {"Inf"}}, 0},
		{"two points", http.Header{"Retry-After": {"1.2.3"}}, 0},
		{"word", http.Header{"Retry-After": {"soon"}}, 0},
		{"huge", http.Header{"Retry-After": {"99999999999999999999"}}, 1<<63 - 1},
		{"HTTP date", http.Header{"Retry-After": {date(90 * time.Second)}}, 90 * time.Second},
		{"RFC 850 date", http.Header{"Retry-After": {now.Add(time.Minute).Format(time.RFC850)}}, time.Minute},
		{"past date", http.Header{"Retry-After": {date(-time.Minute)}}, 0},
		{"RateLimit-Reset seconds", http.Header{"Ratelimit-Reset": {"7"}}, 7 * time.Second},
		{"RateLimit-Reset decimal", http.Header{"Ratelimit-Reset": {"0.5"}}, 500 * time.Millisecond},
		{"X-RateLimit-Reset epoch", http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}}, time.Hour},
		{"X-RateLimit-Reset epoch ms", http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(now.Add(3*time.Second).UnixMilli(), 10)}}, 3 * time.Second},
		{"X-RateLimit-Reset past epoch", http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)}}, 0},
		{"Retry-After first", http.Header{"Retry-After": {"2"}, "Ratelimit-Reset": {"9"}}, 2 * time.Second},
		{"unusable Retry-After, then reset", http.Header{"Retry-After": {"soon"}, "X-Ratelimit-Reset": {"9"}}, 9 * time.Second},
		{"nothing", http.Header{}, 0},
	} {
		if got := Delay(tc.h, now); got != tc.want {
			t.Errorf("%s: Delay(%v) = %v, want %v", tc.name, tc.h, got, tc.want)
		}
	}
}

func TestRateLimited(t *testing.T) {
	for _, tc := range []struct {
		code int
		h    http.Header
		want bool
	}{
		{429, nil, true},
		{403, nil, false},
		{403, http.Header{"Retry-After": {"5"}}, true},
		{403, http.Header{"X-Ratelimit-Remaining": {"0"}}, true},
		{403, http.Header{"Ratelimit-Remaining": {"0"}}, true},
		{403, http.Header{"X-Ratelimit-Remaining": {"12"}}, false},
		{503, http.Header{"Retry-After": {"5"}}, false},
		{200, http.Header{"Retry-After": {"5"}}, false},
	} {
		if got := RateLimited(tc.code, tc.h); got != tc.want {
			t.Errorf("RateLimited(%d, %v) = %v, want %v", tc.code, tc.h, got, tc.want)
		}
	}
}
