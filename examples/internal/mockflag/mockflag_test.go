package mockflag

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

func TestRegister(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	cfg := Register(fs)
	if err := fs.Parse([]string{"-records", "7", "-latency", "5ms", "-error-rate", "0.5", "-page-cap", "3", "-mutate-every", "2"}); err != nil {
		t.Fatal(err)
	}
	want := mockapi.Config{Records: 7, Seed: 1, Latency: 5 * time.Millisecond, ErrorRate: 0.5, RetryAfter: time.Second, PageSizeCap: 3, Mutate: mockapi.Mutation{Every: 2}}
	if diff := cmp.Diff(want, *cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestStart(t *testing.T) {
	s, err := Start(mockapi.Config{Records: 3, Mutate: mockapi.Mutation{Every: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.API.Len() != 3 {
		t.Errorf("server at %s with %d records; want loopback, 3", s.URL, s.API.Len())
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
	if _, err := Start(mockapi.Config{Records: -1}); err == nil {
		t.Error("Start accepted a bad config")
	}
}
