// Package scratchmod makes throwaway Go modules, outside the repository,
// that use this checkout of pagekit through a replace directive, for tests
// that build code as a user would: an example copied into a module of
// one's own, a snippet pasted from the documentation.
package scratchmod

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Module is a scratch module in a temporary directory.
type Module struct {
	// Dir is the module's root directory.
	Dir string
	// Root is the pagekit checkout the module's replace directive names.
	Root string

	goBin string
}

// New makes an empty module, example.com/scratch, that requires pagekit and
// replaces it with the checkout this test runs in. It skips the test when
// the go command is not on PATH, or when -short is set, since building
// takes seconds.
func New(t testing.TB) *Module {
	t.Helper()
	if testing.Short() {
		t.Skip("builds Go code with the go command; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not available to build code as a user would: %v", err)
	}
	root, err := checkout()
	if err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	// go.sum holds the hashes of every module pagekit needs, so the
	// scratch module's build needs no checksum database; the same go
	// directive makes its language version pagekit's.
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	m := &Module{Dir: t.TempDir(), Root: root, goBin: goBin}
	m.Write(t, "go.mod", fmt.Sprintf("module example.com/scratch\n\n%s\n\nrequire github.com/pagekit/pagekit v0.0.0\n\nreplace github.com/pagekit/pagekit => %s\n",
		goDirective(string(goMod)), root))
	m.Write(t, "go.sum", string(goSum))
	return m
}

// checkout returns the root of the pagekit checkout above the working
// directory.
func checkout() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(b), "module github.com/pagekit/pagekit\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("scratchmod: no pagekit go.mod above the working directory")
		}
		dir = parent
	}
}

// goDirective returns the go line of a go.mod.
func goDirective(goMod string) string {
	for line := range strings.Lines(goMod) {
		if strings.HasPrefix(line, "go ") {
			return strings.TrimSpace(line)
		}
	}
	return "go 1.26"
}

// Write writes a file of the module, making its directory.
func (m *Module) Write(t testing.TB, path, data string) {
	t.Helper()
	full := filepath.Join(m.Dir, filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Go runs the go command in the module's directory with args, as a user
// whose go.mod lists only pagekit would: -mod=mod lets it add the
// requirements pagekit brings. It returns the combined output.
func (m *Module) Go(args ...string) (string, error) {
	cmd := exec.Command(m.goBin, args...)
	cmd.Dir = m.Dir
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"), "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
