package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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
// syncs the endpoint with the proposed spec, after the source changed
// since detect read it, then again after it changed again: every record
// of the mock, once each, each time.
func TestDetectThenSync(t *testing.T) {
	for _, path := range []string{mockapi.PathPageNumber, mockapi.PathOffset, mockapi.PathNextPageURL, mockapi.PathNextToken,
		mockapi.PathLinkHeader, mockapi.PathLinkRelative, mockapi.PathStartingAfter, mockapi.PathJSONServer + "?_page=1",
		mockapi.PathJSONServer, mockapi.PathJSONServerV1 + "?_page=1", mockapi.PathSearch} {
		t.Run(path, func(t *testing.T) {
			mock := mockapi.New(mockapi.Config{Records: 95, Seed: 3})
			srv := httptest.NewServer(mock)
			defer srv.Close()
			dir := t.TempDir()
			code, y, stderr := run(t, "detect", srv.URL+path)
			if code != 0 {
				t.Fatalf("detect: status %d\n%s", code, stderr)
			}
			file := filepath.Join(dir, "api.yaml")
			if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "api.db")
			for round := range 2 {
				mock.Update(7)
				mock.Insert(4)
				code, out, stderr := run(t, "sync", file, "-dest", "sqlite:"+db)
				if code != 0 {
					t.Fatalf("sync %d: status %d\n%s%s\nspec:\n%s", round+1, code, out, stderr, y)
				}
				names := tables(t, db)
				if len(names) != 1 {
					t.Fatalf("tables %q, want one", names)
				}
				if diff := cmp.Diff(byID(mock.Records()), readUsers(t, db, names[0])); diff != "" {
					t.Errorf("sync %d: table (-mock +synced):\n%s", round+1, diff)
				}
				// Into JSON Lines, which appends: a record delivered twice
				// shows.
				jdir := filepath.Join(dir, fmt.Sprint("jsonl", round))
				if code, out, stderr := run(t, "sync", file, "-dest", "jsonl:"+jdir); code != 0 {
					t.Fatalf("sync %d into JSON Lines: status %d\n%s%s", round+1, code, out, stderr)
				}
				files, _ := filepath.Glob(filepath.Join(jdir, "*.jsonl"))
				if len(files) != 1 {
					t.Fatalf("files %q, want one table", files)
				}
				got, err := jsonl.ReadFile[mockapi.User](files[0])
				if err != nil {
					t.Fatal(err)
				}
				if dups := duplicates(got); len(dups) > 0 {
					t.Errorf("sync %d: records delivered more than once: %q", round+1, dups)
				}
				if diff := cmp.Diff(byID(mock.Records()), byID(got)); diff != "" {
					t.Errorf("sync %d: records (-mock +synced):\n%s", round+1, diff)
				}
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

// TestDetectAmbiguous runs detect on responses it cannot tell apart: two
// lists of records, and two tokens that both lead to the next page. It
// proposes a spec that says so, names the candidates on stderr, and exits
// 3, so that a script does not take the guess for a finding.
func TestDetectAmbiguous(t *testing.T) {
	page := func(r *http.Request) int {
		for _, k := range []string{"cursor", "next_cursor", "page_token"} {
			if v := r.URL.Query().Get(k); v != "" {
				n, _ := strconv.Atoi(strings.TrimPrefix(v, "p"))
				return n
			}
		}
		return 1
	}
	records := func(first int) string {
		var b strings.Builder
		for i := range 10 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":%d,"name":"n%d"}`, first+i, first+i)
		}
		return b.String()
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    []string // lines of stderr
	}{
		{"two lists", func(w http.ResponseWriter, r *http.Request) {
			p := page(r)
			fmt.Fprintf(w, `{"users":[%s],"admins":[%s],"next_cursor":"p%d"}`, records(p*10), records(1000+p*10), p+1)
		}, []string{"  AMBIGUOUS: records: the response holds several lists of objects: users (10), admins (10); users was taken: set response.items_path"}},
		{"two tokens", func(w http.ResponseWriter, r *http.Request) {
			p := page(r)
			fmt.Fprintf(w, `{"data":[%s],"next_cursor":"p%d","page_token":"p%d"}`, records(p*10), p+1, p+1)
		}, []string{"  AMBIGUOUS: pagination: a next token (the next page's token at next_cursor, sent back as the query parameter next_cursor) works, " +
			"and so does a next token (the next page's token at page_token, sent back as the query parameter page_token); " +
			"the first was taken: keep the one the API documents"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			code, y, stderr := run(t, "detect", srv.URL+"/list")
			if code != exitAmbiguous {
				t.Errorf("status %d, want %d", code, exitAmbiguous)
			}
			if !strings.Contains(stderr, "confidence low") {
				t.Errorf("stderr does not say the confidence is low:\n%s", stderr)
			}
			for _, w := range tt.want {
				if !slices.Contains(strings.Split(stderr, "\n"), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if !strings.Contains(y, "# AMBIGUOUS: ") || !strings.Contains(y, "streams:") {
				t.Errorf("the proposed spec does not say it is a guess:\n%s", y)
			}
		})
	}
}
