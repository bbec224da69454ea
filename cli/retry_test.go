package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
)

// TestRetry syncs from an API that throttles about a third of its
// requests (429, Retry-After: 0): with the default retries (after a run
// with none) the table
// equals the mock; with options.retry.max_attempts: 1 the first 429
// fails the sync.
func TestRetry(t *testing.T) {
	a := serve(t, mockapi.Config{Records: 200, Seed: 2, ThrottleRate: 0.3, ThrottleBurst: 1, RetryAfter: -time.Second})
	dir := t.TempDir()
	spec := func(name, options string) string {
		y := "streams:\n  - name: users\n    table: {primary_key: [id]}\n    request: {url: \"" + a.URL + mockapi.PathPageNumber + "\"}\n" +
			"    paging: {strategy: page_number, size: 20, size_param: per_page}\n" +
			"    response: {items_path: data, total_pages_path: total_pages}\n" + options
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	once := spec("once.yaml", "    options: {concurrency: 1, retry: {max_attempts: 1}}\n")
	retried := spec("retried.yaml", "    options: {concurrency: 1}\n")
	db := filepath.Join(dir, "users.db")
	code, stdout, stderr := run(t, "sync", once, "-dest", "sqlite:"+db)
	if code != 1 || !strings.Contains(stderr, "429") {
		t.Errorf("max_attempts 1: status %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "sync", retried, "-dest", "sqlite:"+db)
	if code != 0 || !strings.Contains(stdout, "retries          ") || strings.Contains(stdout, "retries          0\n") {
		t.Errorf("with retries: status %d\n%s%s", code, stdout, stderr)
	}
	if diff := cmp.Diff(byID(a.Records()), readUsers(t, db, "users")); diff != "" {
		t.Errorf("users (-mock +table):\n%s", diff)
	}
}
