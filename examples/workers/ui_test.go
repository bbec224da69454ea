package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// chromium returns the path of Debian's chromium, or skips the test when
// there is none (and fails it when PAGEKIT_REQUIRE_CHROMIUM=1, as in CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "no chromium on PATH; to check River's UI in a headless browser, install it (apt-get install chromium; .ci/run does)"
	if os.Getenv("PAGEKIT_REQUIRE_CHROMIUM") == "1" {
		t.Fatal(how + ", but PAGEKIT_REQUIRE_CHROMIUM=1")
	}
	t.Skip(how)
	return ""
}

// dumpDOM loads url in headless chromium and returns the page's DOM once
// its scripts have run: River's UI is a single-page application that
// fetches the jobs from its JSON API, so the DOM is dumped only after ten
// seconds of virtual time, enough for those requests.
func dumpDOM(t *testing.T, chrome, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", url).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v", url, err)
	}
	return string(out)
}

// TestUI runs a sync on a worker that serves River's UI, and checks in
// headless chromium that the UI lists the sync's jobs and shows the error
// of the partition the API refused.
func TestUI(t *testing.T) {
	t.Parallel()
	chrome := chromium(t)
	bin := binary(t)
	a := newAPI(t, mockapi.Config{Records: 20, Seed: 5, OrdersPerUser: 3, Events: 20})
	bad := a.Records()[2].ID
	a.refuse(mockapi.OrdersPath(bad), http.StatusUnauthorized)
	path := filepath.Join(t.TempDir(), "ui.db")
	w := startWorker(t, bin, "ui", "-db", path, "-url", a.URL, "-work", "-enqueue", "-ui", "127.0.0.1:0")
	var base string
	deadline := time.Now().Add(time.Minute)
	for base == "" {
		if m := regexp.MustCompile(`River UI at (http://127\.0\.0\.1:\d+/riverui/)`).FindStringSubmatch(w.out.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the worker did not say where the UI is:\n%s", w.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	client, err := river.NewClient(riversqlite.New(db), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	jobs := waitJobs(t, client, len(syncJobs)-1+20, time.Minute)
	var cancelled *rivertype.JobRow
	for _, j := range jobs {
		if j.State == rivertype.JobStateCancelled {
			cancelled = j
		}
	}
	if cancelled == nil {
		t.Fatal("no job was cancelled")
	}

	// The list shows a page of 20 jobs, the latest first.
	dom := dumpDOM(t, chrome, base+"jobs?state=completed")
	if n := strings.Count(dom, riverjob.KindPartition); n < 10 || !strings.Contains(dom, "Completed") {
		t.Errorf("the completed jobs' page shows %d partition jobs, want a page of them:\n%.3000s", n, dom)
	}
	dom = dumpDOM(t, chrome, fmt.Sprintf("%sjobs/%d", base, cancelled.ID))
	for _, want := range []string{riverjob.KindPartition, bad, "401 Unauthorized"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the cancelled job's page does not show %q:\n%.3000s", want, dom)
		}
	}
	w.stop(t)
}
