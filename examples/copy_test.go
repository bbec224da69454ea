// Package examples holds the test that every example still builds and
// runs once copied out of this repository, as a user copies it.
package examples

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagekit/pagekit/internal/scratchmod"
)

// copyRuns says how to run a copied example and what its output must hold.
// An example not listed runs with no flags, which starts its in-process
// mock API, and must exit 0.
var copyRuns = map[string]struct {
	args []string
	want []string // in stdout and stderr together
	// ready, when set, marks a server: once the output holds it, the
	// command is interrupted and must exit 0.
	ready string
}{
	"pagenumber": {want: []string{`Sync of "user" complete.`, "records written  200", "stop reason      total reached"}},
	"offset":     {want: []string{`Sync of "user-offset" complete.`, "records written  200"}},
	"cursor":     {want: []string{`Sync of "user-cursor" complete.`, "records written  200"}},
	"nexttoken":  {args: []string{"-variant", "link"}, want: []string{" complete.", "records written  200"}},
	"connector":  {want: []string{"Sync of 3 streams complete", "| orders | users  | complete | 500"}},
	"iterate":    {args: []string{"-limit", "7"}, want: []string{"7 records", "stop reason: loop left"}},
	"workers":    {want: []string{"pagekit_partition completed      202", "| users  | 200  |"}},
	"bench":      {args: []string{"-quick", "-rows", "sinks"}, want: []string{"SQLite upserts"}},
	"mockapi":    {args: []string{"-addr", "127.0.0.1:0"}, ready: "listening on", want: []string{"mockapi: stopped"}},
	"platforms":  {args: []string{"airbyte", "spec"}, want: []string{`"type":"SPEC"`, `"airbyte_secret":true`}},
}

// TestCopy copies every example's Go files into a fresh module outside the
// repository, whose go.mod requires pagekit alone (replaced by this
// checkout), builds them there, and runs each against its in-process mock
// API: an example that imports anything a user's module cannot, or that
// fails when run as its comment says, fails here.
func TestCopy(t *testing.T) {
	m := scratchmod.New(t)
	examples := copyExamples(t, m)
	if len(examples) < len(copyRuns) {
		t.Errorf("copied %d examples (%v); want at least the %d of copyRuns", len(examples), examples, len(copyRuns))
	}
	bin := filepath.Join(m.Dir, "bin")
	if out, err := m.Go("build", "-o", bin+string(filepath.Separator), "./..."); err != nil {
		t.Fatalf("building the copied examples: %v\n%s", err, out)
	}
	for _, name := range examples {
		t.Run(name, func(t *testing.T) {
			runCopy(t, filepath.Join(bin, name), name)
		})
	}
}

// copyExamples copies the non-test Go files of each example into a
// directory of m named after it, and returns the names.
func copyExamples(t *testing.T, m *scratchmod.Module) []string {
	dirs, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "internal" {
			continue
		}
		files, err := filepath.Glob(filepath.Join(d.Name(), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		copied := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(src), `"github.com/pagekit/pagekit/examples/`) {
				t.Errorf("%s imports a package of the examples, which a copy cannot use", f)
			}
			m.Write(t, filepath.ToSlash(f), string(src))
			copied++
		}
		if copied > 0 {
			names = append(names, d.Name())
		}
	}
	return names
}

// runCopy runs a built example in an empty working directory.
func runCopy(t *testing.T, bin, name string) {
	run := copyRuns[name]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, run.args...)
	cmd.Dir = t.TempDir()
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if run.ready != "" {
		for !strings.Contains(out.String(), run.ready) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Signal(os.Interrupt)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(run.args, " "), err, out.String())
	}
	for _, w := range run.want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("%s %s: output lacks %q:\n%s", name, strings.Join(run.args, " "), w, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer that a command's output and the test can
// use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
