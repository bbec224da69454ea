package cli

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestInstallable checks what `go install
// github.com/pagekit/pagekit/cmd/pagekit@latest` needs of the module: a
// go.mod with no replace or exclude directives (go install pkg@version
// refuses a module whose go.mod has any), and a command that builds
// without cgo, so that it installs with no C compiler: no package it
// imports outside the standard library has cgo files (DuckDB, which
// needs cgo, is a module of its own).
func TestInstallable(t *testing.T) {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && (f[0] == "replace" || f[0] == "exclude") {
			t.Errorf("go.mod:%d: %s: go install github.com/pagekit/pagekit/cmd/pagekit@latest fails with a %s directive in the main module",
				line, sc.Text(), f[0])
		}
	}
	if testing.Short() {
		return
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if and .CgoFiles (not .Standard)}}{{.ImportPath}}{{end}}",
		"github.com/pagekit/pagekit/cmd/pagekit").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if cgo := strings.TrimSpace(string(out)); cgo != "" {
		t.Errorf("cmd/pagekit imports packages with cgo files, so it does not build without a C compiler:\n%s", cgo)
	}
}
