package connector

import (
	"net/http"
	"testing"
	"time"
)

func TestHostKeysAndLimits(t *testing.T) {
	l := NewLimiter(Limits{Rate: 5, Hosts: map[string]HostLimit{"api.example.com": {Rate: 50, Burst: 3}, "other.example.com:8443": {}}})
	for _, tc := range []struct {
		url   string
		key   string
		rate  float64
		burst int
	}{
		{"https://API.example.com:443/x", "api.example.com", 50, 3},
		{"http://api.example.com:8080/x", "api.example.com:8080", 50, 3},
		{"https://other.example.com:8443/", "other.example.com:8443", 0, 0},
		{"http://else.example.com:80/", "else.example.com", 5, 1},
	} {
		req, _ := http.NewRequest("GET", tc.url, nil)
		key := hostKey(req.URL)
		h := l.host(key)
		var rate float64
		var burst int
		if h.lim != nil {
			rate, burst = float64(h.lim.Limit()), h.lim.Burst()
		}
		if key != tc.key || rate != tc.rate || burst != tc.burst {
			t.Errorf("%s: key %q rate %v burst %d; want %q %v %d", tc.url, key, rate, burst, tc.key, tc.rate, tc.burst)
		}
	}
	l.Pause("API.example.com", time.Now().Add(time.Hour))
	if l.PausedUntil("api.example.com").IsZero() || !l.PausedUntil("else.example.com").IsZero() {
		t.Errorf("Pause did not hold the host, or held another")
	}
}
