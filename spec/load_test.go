package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
)

// env is the environment the tests' specs read.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

var testEnv = env(map[string]string{"API_URL": "http://127.0.0.1:5001/pagination/page_number", "API_TOKEN": "tok-secret"})

// TestBadSpecs checks that each bad spec in testdata/bad gives one clear
// error, with its line and column, against the golden file beside it
// (-update rewrites them).
func TestBadSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no bad specs", err)
	}
	jsonFiles, _ := filepath.Glob("testdata/bad/*.json")
	files = append(files, jsonFiles...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(filepath.Base(f), b, testEnv)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse: %v, want an *Error", err)
			}
			got := err.Error() + "\n"
			if strings.Contains(got, "sk_live_123456789") || strings.Contains(got, "tok-secret") {
				t.Errorf("the error shows a credential: %s", got)
			}
			golden := strings.TrimSuffix(strings.TrimSuffix(f, ".yaml"), ".json") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFlagshipSpec(t *testing.T) {
	_, err := Load("testdata/flagship.yaml")
	if err == nil || !strings.Contains(err.Error(), "flagship.yaml:8:12: streams[0].request.url: ${API_URL} is not set in the environment") {
		t.Errorf("Load without API_URL: %v", err)
	}
	b, err := os.ReadFile("testdata/flagship.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse("flagship.yaml", b, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	st := s.Streams[0]
	if st.Paging.Strategy != PageNumber || st.Paging.Size != 50 || st.Response.ItemsPath != "data" || st.Options.HighWater != "updatedAt" {
		t.Errorf("parsed %+v", st)
	}
}

// TestOptions checks that a stream's options reach its runs'
// paginate.Options, group for group.
func TestOptions(t *testing.T) {
	y := `streams:
  - name: user
    table: {primary_key: [id]}
    request: {url: "http://127.0.0.1:5001/pagination/page_number"}
    paging: {strategy: page_number}
    options:
      high_water: updatedAt
      concurrency: 2
      checks: {track_keys: true, repeated_page_ends: true}
      limits: {max_pages: 3, max_items: 100}
      retry: {max_attempts: 2, max_elapsed: 90s, max_retry_after: 1m}
`
	s, err := Parse("options.yaml", []byte(y), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	o := s.options(&s.Streams[0])
	got := []any{o.Stream, o.Concurrency, o.Checks.TrackKeys, o.Checks.RepeatedPageEnds, o.Limits, o.HighWater != nil, o.Retry}
	want := []any{"user", 2, true, true, paginate.Limits{MaxPages: 3, MaxItems: 100}, true,
		paginate.Retry{MaxAttempts: 2, MaxElapsed: 90 * time.Second, MaxRetryAfter: time.Minute}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

// TestJSONSpec checks that a spec written in JSON reads as the same spec
// written in YAML.
func TestJSONSpec(t *testing.T) {
	b, err := os.ReadFile("testdata/flagship.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y, err := Parse("flagship.yaml", b, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(y)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := Parse("flagship.json", j, testEnv)
	if err != nil {
		t.Fatalf("%v\n%s", err, j)
	}
	if diff := cmp.Diff(y.Streams, fromJSON.Streams); diff != "" {
		t.Errorf("streams (-yaml +json):\n%s", diff)
	}
}
