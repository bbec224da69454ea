package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
)

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
)

// flagship builds the command once for the package's tests and returns the
// binary's path.
func flagship(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the command; skipped with -short")
	}
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		dir, err := os.MkdirTemp("", "pagekit-flagship")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "pagenumber")
		out, err := exec.Command(gobin, "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// command returns the flagship command with args, run in dir.
func command(t *testing.T, dir string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(flagship(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// TestBinary runs `go run ./examples/pagenumber` as a user does, twice: a
// full sync of the in-process mock into ./warehouse.db, then an incremental
// one.
func TestBinary(t *testing.T) {
	dir := t.TempDir()
	cmd, out := command(t, dir)
	if err := cmd.Run(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	for _, want := range []string{"records written  200", "pages            4", "stop reason      total reached",
		"next run         incremental, from ", `Resulting table "user"`, "| id "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("first run's output lacks %q:\n%s", want, out)
		}
	}
	db := filepath.Join(dir, "warehouse.db")
	want := exampletest.ByID(mockapi.New(mockapi.Config{Records: 200}).Records())
	if diff := cmp.Diff(want, exampletest.ReadUsers(t, db)); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}

	// The same mock again: only the records at the high-water mark are
	// fetched, and the table is unchanged.
	cmd, out = command(t, dir)
	if err := cmd.Run(); err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if m := regexp.MustCompile(`records written  (\d+)\n`).FindStringSubmatch(out.String()); m == nil || m[1] == "0" || len(m[1]) > 1 {
		t.Errorf("second run is not incremental (want a few boundary records upserted):\n%s", out)
	}
	if diff := cmp.Diff(want, exampletest.ReadUsers(t, db)); diff != "" {
		t.Errorf("table changed on the incremental run (-dataset +table):\n%s", diff)
	}

	// -reset syncs everything again.
	cmd, out = command(t, dir, "-reset")
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "records written  200") {
		t.Errorf("-reset run: %v, want 200 records upserted:\n%s", err, out)
	}
}

// TestBinaryInterrupt sends SIGINT part way through a sync: the command
// stops after the page being committed, says where the next run resumes
// and exits with 130; the next run completes the table.
func TestBinaryInterrupt(t *testing.T) {
	api := exampletest.Serve(t, mockapi.Config{Records: 2000, Seed: 4, Latency: 5 * time.Millisecond})
	dir := t.TempDir()
	args := []string{"-url", api.URL + mockapi.PathPageNumber, "-concurrency", "1"}
	cmd, out := command(t, dir, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	api.After(10, func() { cmd.Process.Signal(os.Interrupt) })
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v, want exit status 130\n%s", err, out)
	}
	m := regexp.MustCompile(`next run +resumes at page (\d+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.Contains(out.String(), `Sync of "user" interrupted.`) {
		t.Fatalf("interrupted run does not say it was interrupted and where it resumes:\n%s", out)
	}

	// The interrupted run's requests on their way are answered before, or
	// never: the first request logged next is the resumed run's.
	api.Restart()
	args[1] = api.URL + mockapi.PathPageNumber
	api.Requests()
	cmd, out = command(t, dir, args...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "resumed          yes") {
		t.Errorf("second run did not resume:\n%s", out)
	}
	if got := api.Requests()[0].Query.Get("page"); got != m[1] {
		t.Errorf("resumed run started at page %q, want %s", got, m[1])
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, filepath.Join(dir, "warehouse.db"))); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
}
