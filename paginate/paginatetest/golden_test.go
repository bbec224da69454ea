package paginatetest_test

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata with what the tests got")

// golden is a file of named blocks, as go-cmp's testdata/diffs is:
//
//	<<< name
//	text
//	>>> name
//
// Tests compare what they got with the block of their name; with -update
// they rewrite the file, blocks in the order the tests ran, so that a change
// in the kit's words shows up in review as a change of this file.
type golden struct {
	path string
	want map[string]string

	mu    sync.Mutex
	got   map[string]string
	order []string
}

// loadGolden reads path; with -update, it rewrites it when t ends.
func loadGolden(t *testing.T, path string) *golden {
	t.Helper()
	g := &golden{path: path, want: make(map[string]string), got: make(map[string]string)}
	b, err := os.ReadFile(path)
	if err != nil && !(*update && os.IsNotExist(err)) {
		t.Fatal(err)
	}
	var name string
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case name == "" && strings.HasPrefix(line, "<<< "):
			name = strings.TrimPrefix(line, "<<< ")
			body.Reset()
		case name != "" && line == ">>> "+name:
			g.want[name] = body.String()
			name = ""
		case name != "":
			body.WriteString(line + "\n")
		}
	}
	if name != "" {
		t.Fatalf("%s: block %q has no end", path, name)
	}
	if *update {
		t.Cleanup(func() {
			var out strings.Builder
			for _, n := range g.order {
				out.WriteString("<<< " + n + "\n" + g.got[n] + ">>> " + n + "\n")
			}
			if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
				t.Error(err)
			}
		})
	}
	return g
}

// check compares got with the block named name.
func (g *golden) check(t *testing.T, name, got string) {
	t.Helper()
	g.mu.Lock()
	g.got[name] = got
	g.order = append(g.order, name)
	g.mu.Unlock()
	if *update {
		return
	}
	want, ok := g.want[name]
	if !ok {
		t.Fatalf("%s has no block %q: run go test with -update, and review the change\ngot:\n%s", g.path, name, got)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s, block %q (-want +got); if the change is meant, run go test with -update and review it:\n%s", g.path, name, diff)
	}
}
