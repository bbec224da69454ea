package cli

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/spec"
)

// docBlock is a ```yaml block of docs/cli.md, with the HTML comment on
// the line above it, if any, that says what it is: "spec: FILE" or
// "detect: PATH".
type docBlock struct {
	line int
	tag  string
	text string
}

// docMockURL is the mock API's address in docs/cli.md (go run
// ./examples/mockapi).
const docMockURL = "http://127.0.0.1:5001"

func yamlBlocks(t *testing.T, file string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []docBlock
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```yaml" {
			continue
		}
		blk := docBlock{line: i + 2}
		if i > 0 {
			if tag, ok := strings.CutPrefix(lines[i-1], "<!-- "); ok {
				blk.tag, _, _ = strings.Cut(tag, " (")
				blk.tag = strings.TrimSuffix(blk.tag, " -->")
			}
		}
		start := i + 1
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
		}
		blk.text = strings.Join(lines[start:i], "\n") + "\n"
		out = append(out, blk)
	}
	return out
}

// TestDocsSpecs checks the specs of docs/cli.md: each loads (and so
// meets the JSON Schema), and those it walks through sync the mock API
// exactly, twice, the source changing between.
func TestDocsSpecs(t *testing.T) {
	a := serve(t, mockapi.Config{Records: 200, Seed: 1})
	env := func(name string) (string, bool) {
		if name == "API" || name == "API_URL" {
			return a.URL, true
		}
		return "value-of-" + name, true
	}
	t.Setenv("API", a.URL)
	dir := t.TempDir()
	synced := 0
	for _, blk := range yamlBlocks(t, "../docs/cli.md") {
		if !strings.Contains(blk.text, "\nstreams:") && !strings.HasPrefix(blk.text, "streams:") {
			continue
		}
		text := strings.ReplaceAll(blk.text, docMockURL, a.URL)
		if _, err := spec.Parse("docs/cli.md", []byte(text), env); err != nil {
			t.Errorf("docs/cli.md:%d: the spec does not load: %v", blk.line, err)
			continue
		}
		name, ok := strings.CutPrefix(blk.tag, "spec: ")
		if !ok {
			continue
		}
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(dir, strings.TrimSuffix(name, ".yaml")+".db")
		for round := range 2 {
			if round > 0 {
				a.Update(15)
				a.Insert(3)
			}
			code, stdout, stderr := run(t, "sync", file, "-dest", "sqlite:"+db)
			if code != 0 {
				t.Fatalf("docs/cli.md:%d: %s: status %d\n%s%s", blk.line, name, code, stdout, stderr)
			}
			if diff := cmp.Diff(byID(a.Records()), readUsers(t, db, "users")); diff != "" {
				t.Errorf("docs/cli.md:%d: %s, sync %d: users (-mock +table):\n%s", blk.line, name, round+1, diff)
			}
			if strings.Contains(text, "name: orders") {
				if diff := cmp.Diff(mockOrders(a), readOrders(t, db)); diff != "" {
					t.Errorf("docs/cli.md:%d: %s, sync %d: orders (-mock +table):\n%s", blk.line, name, round+1, diff)
				}
			}
		}
		synced++
	}
	if synced < 2 {
		t.Errorf("synced %d specs of docs/cli.md, want users.yaml and shop.yaml", synced)
	}
}

// TestDocsDetect checks that pagekit detect prints what docs/cli.md
// shows it print, but for the wrapping of its comments.
func TestDocsDetect(t *testing.T) {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 200, Seed: 1}))
	defer srv.Close()
	n := 0
	for _, blk := range yamlBlocks(t, "../docs/cli.md") {
		path, ok := strings.CutPrefix(blk.tag, "detect: ")
		if !ok {
			continue
		}
		n++
		code, y, stderr := run(t, "detect", srv.URL+path)
		if code != 0 {
			t.Fatalf("detect %s: status %d\n%s", path, code, stderr)
		}
		got := unwrapComments(strings.ReplaceAll(y, srv.URL, docMockURL))
		if diff := cmp.Diff(unwrapComments(blk.text), got); diff != "" {
			t.Errorf("docs/cli.md:%d: detect %s prints (-docs +detect):\n%s", blk.line, path, diff)
		}
	}
	if n == 0 {
		t.Error("docs/cli.md shows no detect output")
	}
}

// unwrapComments joins each run of comment lines into one line of
// words, so that a URL of another length, which wraps them elsewhere,
// compares equal.
func unwrapComments(s string) string {
	var out, run []string
	flush := func() {
		if len(run) > 0 {
			out = append(out, "# "+strings.Join(run, " "))
			run = nil
		}
	}
	for _, l := range strings.Split(s, "\n") {
		if c, ok := strings.CutPrefix(l, "#"); ok {
			run = append(run, strings.Fields(c)...)
			continue
		}
		flush()
		out = append(out, l)
	}
	flush()
	return strings.Join(out, "\n")
}
