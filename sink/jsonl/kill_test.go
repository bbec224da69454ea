package jsonl_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/jsonl"
)

// killChild is the environment variable that makes the test binary the
// process TestKillNineKeepsTheKeys kills: its value is the data file.
const killChild = "PAGEKIT_JSONL_KILL_CHILD"

// killUsers are the records the killed syncs read: 60 pages of 20.
var killUsers = usertest.Generate(1200, 9)

// TestKillNineKeepsTheKeys syncs 1,200 records by page number with
// TrackKeys into a File in a child process, and kills it with SIGKILL at
// a random moment, five times, each time resuming where it stopped; then
// one run completes (a run that completes before its kill ends the
// series). Every resumed run must load the keys of every record
// committed before its kill (a resumed run without them reports
// DriftResume: a keys file cut short, or ahead of its checkpoint, would
// show as such), the data file must hold every record once, and the
// completed sync leaves no keys file.
func TestKillNineKeepsTheKeys(t *testing.T) {
	if path := os.Getenv(killChild); path != "" {
		killedSync(path)
		return
	}
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "users.jsonl")
	run := func(kill time.Duration) string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillNineKeepsTheKeys$")
		cmd.Env = append(os.Environ(), killChild+"="+path)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if kill > 0 {
			time.AfterFunc(kill, func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
		err := cmd.Wait()
		if kill == 0 && err != nil {
			t.Fatalf("the last run: %v\n%s", err, out.String())
		}
		return out.String()
	}
	kills, done := 0, ""
	for i := 0; i < 20 && kills < 5; i++ {
		out := run(time.Duration(20+rand.IntN(150)) * time.Millisecond)
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "drift ") {
				t.Errorf("run %d: %s", i+1, strings.TrimSpace(line))
			}
		}
		if n := strings.Index(out, "done "); n >= 0 {
			done = out[n:]
			break // a completed sync: the next would append its records again
		}
		kills++
	}
	if done == "" {
		out := run(0)
		if strings.Contains(out, "drift ") || !strings.Contains(out, "done ") {
			t.Errorf("the last run after %d kills:\n%s", kills, out)
		}
		done = out[strings.Index(out, "done "):]
	}
	t.Logf("%d kills; the run that completed: %s", kills, strings.TrimSpace(strings.SplitN(done, "\n", 2)[0]))
	if kills < 3 {
		t.Errorf("%d kills landed before the sync completed, want at least 3", kills)
	}
	got, err := jsonl.ReadFile[usertest.User](path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(killUsers, got); diff != "" {
		t.Errorf("the data file (-want +got):\n%s", diff)
	}
	if keys, _ := filepath.Glob(path + ".*.keys"); len(keys) > 0 {
		t.Errorf("keys files left after the sync completed: %q", keys)
	}
}

// killedSync is the child of TestKillNineKeepsTheKeys: it resumes the sync
// into the File at path, and says on stdout each drift its run sees and,
// if it completes, its counts.
func killedSync(path string) {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	f, err := jsonl.Open[usertest.User](path, jsonl.Config{})
	if err != nil {
		fmt.Fprintln(out, "open:", err)
		os.Exit(1)
	}
	api := paginate.PaginatorFunc[usertest.User](func(ctx context.Context, pos paginate.Position) (paginate.Page[usertest.User], error) {
		time.Sleep(10 * time.Millisecond) // a request's time, for the kill to land in
		p := max(pos.Page, 1)
		lo, hi := int(p-1)*20, min(int(p)*20, len(killUsers))
		return paginate.Page[usertest.User]{Items: killUsers[lo:hi], More: hi < len(killUsers), Next: paginate.Position{Page: p + 1}}, nil
	})
	res, err := paginate.Run(context.Background(), api, f, paginate.Options[usertest.User]{
		Stream: "users",
		Key:    func(u usertest.User) string { return u.ID },
		Checks: paginate.Checks[usertest.User]{TrackKeys: true},
		Observe: func(e paginate.Event) {
			if e.Kind == paginate.EventDrift {
				// Unbuffered: the process may die any moment.
				fmt.Fprintf(os.Stdout, "drift %v at %v\n", e.Drift.Kind, e.Drift.Position)
			}
		},
	})
	if err != nil {
		fmt.Fprintln(out, "run:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(out, "close:", err)
		os.Exit(1)
	}
	fmt.Fprintf(out, "done items=%d pages=%d resumed=%v drifts=%d\n", res.Items, res.Pages, res.Resumed, res.DriftCount)
}
