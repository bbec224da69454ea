package cli

import (
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestCheck runs check on a spec whose streams' first pages each show a
// mistake (an items_path, a URL, a primary key, a high-water field,
// credentials the API refuses, a total's path): each is reported at its
// file, line and column, with what the page holds instead, against the
// golden testdata/check.golden (-update rewrites it).
func TestCheck(t *testing.T) {
	a := serve(t, mockapi.Config{Records: 60, Seed: 4})
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
	}))
	defer refuse.Close()
	t.Setenv("API", a.URL)
	t.Setenv("AUTH_API", refuse.URL)
	t.Setenv("TOKEN", "tok-refused-123")
	code, stdout, stderr := run(t, "check", "testdata/check.yaml")
	got := strings.NewReplacer(a.URL, "http://API", refuse.URL, "http://AUTH_API").Replace(stdout + stderr)
	if code != 1 {
		t.Errorf("status %d, want 1", code)
	}
	if strings.Contains(got, "tok-refused-123") {
		t.Errorf("the output shows the token:\n%s", got)
	}
	const golden = "testdata/check.golden"
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
		t.Errorf("check (-want +got):\n%s", diff)
	}

	// A sync that meets the same mistakes says to run check.
	for _, st := range []string{"users", "gone"} {
		code, _, stderr := run(t, "sync", "testdata/check.yaml", "-streams", st, "-dest", "jsonl:"+t.TempDir())
		if code != 1 || !strings.HasSuffix(stderr, "pagekit check testdata/check.yaml says where in the spec the request or the response's shape is wrong.\n") {
			t.Errorf("sync -streams %s: status %d\n%s", st, code, stderr)
		}
	}
}

// TestDiscover runs check and discover on the spec of users and their
// orders (a child stream, OAuth 2.0): check fetches a page of each (of
// the orders, a user's), discover lists the streams, their tables and
// columns, declared or inferred, against the golden
// testdata/discover.golden.
func TestDiscover(t *testing.T) {
	const secret = "cs-discover"
	a := serve(t, mockapi.Config{Records: 40, Seed: 21, OAuth: mockapi.OAuth{ClientID: "pagekit-test", ClientSecret: secret, Require: true}})
	t.Setenv("API", a.URL)
	t.Setenv("CLIENT_SECRET", secret)
	var got strings.Builder
	for _, cmd := range []string{"check", "discover"} {
		code, stdout, stderr := run(t, cmd, "testdata/shop.yaml")
		if code != 0 {
			t.Fatalf("%s: status %d\n%s%s", cmd, code, stdout, stderr)
		}
		got.WriteString("$ pagekit " + cmd + " testdata/shop.yaml\n" + stdout + stderr)
	}
	const golden = "testdata/discover.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got.String()); diff != "" {
		t.Errorf("check and discover (-want +got):\n%s", diff)
	}
}
