package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadSpecs runs check and sync on each bad spec of package spec's
// tests: each prints its one error, the golden one (spec's TestBadSpecs
// keeps them) with the file, line and column, exits 1, and writes
// nothing.
func TestBadSpecs(t *testing.T) {
	t.Setenv("API_URL", "http://127.0.0.1:1/users")
	t.Setenv("API_TOKEN", "tok-secret")
	files, err := filepath.Glob("../spec/testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no bad specs", err)
	}
	for _, f := range files {
		golden, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
		if err != nil {
			t.Fatal(err)
		}
		// The golden error names the file by its base name.
		want := filepath.Dir(f) + "/" + strings.TrimSpace(string(golden))
		dir := t.TempDir()
		for _, args := range [][]string{{"check", f}, {"sync", f, "-dest", "jsonl:" + filepath.Join(dir, "out")}} {
			code, stdout, stderr := run(t, args...)
			prefix := "pagekit: error: "
			if args[0] == "check" {
				prefix = ""
			}
			if code != 1 || stdout != "" || stderr != prefix+want+"\n" {
				t.Errorf("pagekit %s: status %d, stdout %q, stderr:\n%s\nwant:\n%s%s", strings.Join(args, " "), code, stdout, stderr, prefix, want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
			t.Errorf("%s: the sync made its destination (%v)", f, err)
		}
	}
}
