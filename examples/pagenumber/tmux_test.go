package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestTerminal runs the flagship in a real terminal (tmux) at 80 and 120
// columns, against the in-process mock with 10% of the requests failing,
// and reads the screen as a person would, every 100 ms: no line is wider
// than the terminal, the bar is never left behind in stale copies, the
// retries are summarised under it and not printed as log lines, and the
// run ends with its summary and no error. Then a run interrupted with
// Ctrl-C ends with a message that is not an error, and exit status 130.
// It skips when tmux is not installed, unless PAGEKIT_REQUIRE_TMUX is set.
func TestTerminal(t *testing.T) {
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("PAGEKIT_REQUIRE_TMUX") != "" {
			t.Fatal("tmux is required (PAGEKIT_REQUIRE_TMUX) but not installed")
		}
		t.Skip("tmux is not installed")
	}
	bin := flagship(t)
	for _, width := range []int{80, 120} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			term := newTerminal(t, tmux, width)
			dir := t.TempDir()
			frames, end := term.run(t, dir, bin, "-db", filepath.Join(dir, "w.db"), "-records", "3000", "-per-page", "20",
				"-latency", "10ms", "-error-rate", "0.1", "-show", "3")
			retrying := false
			for _, f := range frames {
				checkFrame(t, f, width)
				retrying = retrying || strings.Contains(f, "  retrying page ")
			}
			if !retrying {
				t.Errorf("no frame showed a retry under the bar; the last:\n%s", end)
			}
			for _, bad := range []string{"level=", "WARN", "ERROR", "error:", "<html"} {
				if strings.Contains(end, bad) {
					t.Errorf("the screen shows %q:\n%s", bad, end)
				}
			}
			if !strings.Contains(end, `Sync of "user" complete.`) || !strings.Contains(end, "EXIT=0") ||
				!regexp.MustCompile(`user \[#+\] 100% 3000/3000 records, .*\d+ retr`).MatchString(end) {
				t.Errorf("the sync did not end complete, with its bar at 100%%:\n%s", end)
			}
			if n := strings.Count(end, "user ["); n != 1 {
				t.Errorf("%d copies of the bar on the screen, want 1:\n%s", n, end)
			}

			// Ctrl-C once a few pages are in.
			frames, end = term.interrupt(t, dir, bin, "-db", filepath.Join(dir, "i.db"), "-records", "5000", "-per-page", "20",
				"-latency", "30ms", "-concurrency", "1")
			for _, f := range frames {
				// The terminal echoes Ctrl-C as ^C where the cursor is,
				// at the end of the bar, until the bar is drawn again.
				checkFrame(t, strings.ReplaceAll(f, "^C", ""), width)
			}
			checkFrame(t, end, width)
			t.Logf("after Ctrl-C:\n%s", end)
			flat := strings.Join(strings.Fields(end), " ")
			if !strings.Contains(flat, "EXIT=130") || !strings.Contains(flat, "pagenumber: interrupted. What was committed is kept: run the same command again to resume where it stopped.") ||
				strings.Contains(strings.ToLower(flat), "error") {
				t.Errorf("Ctrl-C did not end with the interrupt message and status 130:\n%s", end)
			}
		})
	}
}

// checkFrame fails the test for a line of the screen wider than the
// terminal: tmux shows it wrapped, and capture-pane -J joins it again.
func checkFrame(t *testing.T, frame string, width int) {
	t.Helper()
	for _, l := range strings.Split(frame, "\n") {
		if n := utf8.RuneCountInString(l); n > width {
			t.Errorf("a line of %d columns on a terminal of %d: %q", n, width, l)
		}
	}
}

// terminal is a tmux server of its own, with one window of a fixed size.
type terminal struct {
	tmux, sock string
	width      int
	n          int    // windows started
	name       string // the last one's session
}

func newTerminal(t *testing.T, tmux string, width int) *terminal {
	dir, err := os.MkdirTemp("", "pagekit-tmux") // a socket path must be short
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{tmux: tmux, sock: filepath.Join(dir, "s"), width: width}
	t.Cleanup(func() {
		exec.Command(tmux, "-S", term.sock, "kill-server").Run()
		os.RemoveAll(dir)
	})
	return term
}

// start runs the command in a new window, in dir; the shell prints its
// exit status and keeps the window open. The shell ignores Ctrl-C, which
// tmux sends to both, as an interactive shell would; the command, which
// asks for SIGINT, still gets it.
func (term *terminal) start(t *testing.T, dir, bin string, args ...string) {
	t.Helper()
	term.n++
	term.name = fmt.Sprint("sync", term.n)
	script := fmt.Sprintf("trap '' INT; cd %q && %q %s; echo EXIT=$?; sleep 600", dir, bin, strings.Join(args, " "))
	cmd := exec.Command(term.tmux, "-S", term.sock, "-f", "/dev/null", "new-session", "-d", "-s", term.name,
		"-x", fmt.Sprint(term.width), "-y", "50", "sh", "-c", script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
}

// screen returns the window's text, wrapped lines joined.
func (term *terminal) screen(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(term.tmux, "-S", term.sock, "capture-pane", "-p", "-J", "-t", term.name).Output()
	if err != nil {
		t.Fatalf("tmux capture-pane: %v", err)
	}
	return strings.TrimRight(string(out), "\n")
}

// watch reads the screen every 100 ms until the command has exited, or
// until until returns true, and returns every frame and the last.
func (term *terminal) watch(t *testing.T, until func(string) bool) ([]string, string) {
	t.Helper()
	var frames []string
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s := term.screen(t)
		frames = append(frames, s)
		if strings.Contains(s, "EXIT=") || until != nil && until(s) {
			return frames, s
		}
	}
	t.Fatalf("the command did not end within 3 minutes:\n%s", frames[len(frames)-1])
	return nil, ""
}

// run runs the command to its end.
func (term *terminal) run(t *testing.T, dir, bin string, args ...string) ([]string, string) {
	t.Helper()
	term.start(t, dir, bin, args...)
	return term.watch(t, nil)
}

// interrupt runs the command, types Ctrl-C once it has committed a few
// pages, and waits for its end.
func (term *terminal) interrupt(t *testing.T, dir, bin string, args ...string) ([]string, string) {
	t.Helper()
	term.start(t, dir, bin, args...)
	pages := regexp.MustCompile(`[1-9]\d\d+/\d+ records`) // 100 records or more
	frames, s := term.watch(t, pages.MatchString)
	if strings.Contains(s, "EXIT=") {
		t.Fatalf("the sync ended before Ctrl-C:\n%s", s)
	}
	if out, err := exec.Command(term.tmux, "-S", term.sock, "send-keys", "-t", term.name, "C-c").CombinedOutput(); err != nil {
		t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
	more, end := term.watch(t, nil)
	return append(frames, more...), end
}
