package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/jsonl"
)

// run runs the pagekit command in this process and returns its exit
// status and what it printed.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestDetectThenSync detects every pagination style of the mock API and
// syncs the endpoint with the proposed spec: every record of the mock,
// once each.
func TestDetectThenSync(t *testing.T) {
	mock := mockapi.New(mockapi.Config{Records: 95, Seed: 3})
	srv := httptest.NewServer(mock)
	defer srv.Close()
	want := byID(mock.Records())
	for _, path := range []string{mockapi.PathPageNumber, mockapi.PathOffset, mockapi.PathNextPageURL, mockapi.PathNextToken,
		mockapi.PathLinkHeader, mockapi.PathLinkRelative, mockapi.PathStartingAfter, mockapi.PathJSONServer + "?_page=1",
		mockapi.PathJSONServer, mockapi.PathJSONServerV1 + "?_page=1", mockapi.PathSearch} {
		t.Run(path, func(t *testing.T) {
			dir := t.TempDir()
			code, y, stderr := run(t, "detect", srv.URL+path)
			if code != 0 {
				t.Fatalf("detect: status %d\n%s", code, stderr)
			}
			file := filepath.Join(dir, "api.yaml")
			if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, stderr := run(t, "sync", file, "-dest", "jsonl:"+dir)
			if code != 0 {
				t.Fatalf("sync: status %d\n%s%s\nspec:\n%s", code, out, stderr, y)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
			if len(files) != 1 {
				t.Fatalf("files %q, want one table", files)
			}
			got, err := jsonl.ReadFile[mockapi.User](files[0])
			if err != nil {
				t.Fatal(err)
			}
			if dups := duplicates(got); len(dups) > 0 {
				t.Errorf("records delivered more than once: %q", dups)
			}
			if diff := cmp.Diff(want, byID(got)); diff != "" {
				t.Errorf("records (-mock +synced):\n%s", diff)
			}
		})
	}
}

func byID(users []mockapi.User) []mockapi.User {
	out := slices.Clone(users)
	slices.SortFunc(out, func(a, b mockapi.User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func duplicates(users []mockapi.User) []string {
	seen := make(map[string]bool)
	var out []string
	for _, u := range users {
		if seen[u.ID] {
			out = append(out, u.ID)
		}
		seen[u.ID] = true
	}
	return out
}
