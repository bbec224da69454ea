package mockapi_test

import (
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/mockapi"
)

func TestRegisterFlags(t *testing.T) {
	tests := []struct {
		name string
		cfg  mockapi.Config // before RegisterFlags
		args []string
		want mockapi.Config
	}{
		{
			name: "defaults",
			want: mockapi.Config{Records: 200, RetryAfter: time.Second},
		},
		{
			name: "caller's defaults",
			cfg:  mockapi.Config{Records: 5, Seed: 9, RetryAfter: -1},
			want: mockapi.Config{Records: 5, Seed: 9, RetryAfter: -1},
		},
		{
			name: "every flag",
			args: []string{"-records", "7", "-seed", "3", "-latency", "5ms", "-latency-jitter", "1ms", "-error-rate", "0.5",
				"-throttle-rate", "0.25", "-retry-after", "2s", "-drop-rate", "0.125", "-page-cap", "3", "-mutate-every", "2"},
			want: mockapi.Config{Records: 7, Seed: 3, Latency: 5 * time.Millisecond, LatencyJitter: time.Millisecond, ErrorRate: 0.5,
				ThrottleRate: 0.25, RetryAfter: 2 * time.Second, DropRate: 0.125, PageSizeCap: 3, Mutate: mockapi.Mutation{Every: 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			cfg := tt.cfg
			cfg.RegisterFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg, cmp.Comparer(func(a, b func() time.Time) bool { return a == nil && b == nil })); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStart(t *testing.T) {
	s, err := mockapi.Start(mockapi.Config{Records: 3, Mutate: mockapi.Mutation{Every: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.Len() != 3 {
		t.Errorf("server at %s with %d records; want loopback, 3", s.URL, s.Len())
	}
	resp, err := http.Get(s.URL + mockapi.PathPageNumber + "?per_page=2")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"total_items":4`) {
		t.Errorf("%s: %s; want 200 and a mutation (one insert) applied", resp.Status, body)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := http.Get(s.URL); err == nil {
		t.Error("server still answers after Close")
	}
	if _, err := mockapi.Start(mockapi.Config{Records: -1}); err == nil || !strings.Contains(err.Error(), "Records -1") {
		t.Errorf("Start(Records: -1) = %v; want an error naming Records", err)
	}
}
