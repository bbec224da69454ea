package paginatetest

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
)

// recorder is a testingT that keeps what a suite reports, so that the kit's
// tests run a suite in-process and check its verdict and its messages.
// Like testing.T, it runs each subtest in a goroutine of its own, ends it
// on Fatalf and Skipf, cancels its Context when it returns and then calls
// its Cleanup functions, last registered first.
type recorder struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	failed   bool
	skipped  bool
	lines    []string
	cleanups []func()
	subs     []*recorder
}

func newRecorder(ctx context.Context, name string) *recorder {
	ctx, cancel := context.WithCancel(ctx)
	return &recorder{name: name, ctx: ctx, cancel: cancel}
}

// record runs f as a test named name and returns what it reported.
func record(name string, f func(t testingT)) *recorder {
	r := newRecorder(context.Background(), name)
	r.do(f)
	return r
}

func (r *recorder) do(f func(t testingT)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			r.cancel()
			r.mu.Lock()
			cleanups := r.cleanups
			r.mu.Unlock()
			for i := len(cleanups) - 1; i >= 0; i-- {
				cleanups[i]()
			}
		}()
		f(r)
	}()
	<-done
}

func (r *recorder) Helper()                  {}
func (r *recorder) Context() context.Context { return r.ctx }

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) say(s string, fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, s)
	r.failed = r.failed || fail
}

func (r *recorder) Error(args ...any)                 { r.say(fmt.Sprint(args...), true) }
func (r *recorder) Errorf(format string, args ...any) { r.say(fmt.Sprintf(format, args...), true) }
func (r *recorder) Logf(format string, args ...any)   { r.say(fmt.Sprintf(format, args...), false) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.say(fmt.Sprintf(format, args...), false)
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Run(name string, f func(t testingT)) bool {
	c := newRecorder(r.ctx, name)
	r.mu.Lock()
	r.subs = append(r.subs, c)
	r.mu.Unlock()
	c.do(f)
	if c.Failed() {
		r.mu.Lock()
		r.failed = true
		r.mu.Unlock()
	}
	return !c.Failed()
}

func (r *recorder) status() string {
	switch {
	case r.failed:
		return "FAIL"
	case r.skipped:
		return "SKIP"
	}
	return "PASS"
}

// quiet reports whether r and every subtest of it passed without a word.
func (r *recorder) quiet() bool {
	if r.failed || r.skipped || len(r.lines) > 0 {
		return false
	}
	for _, c := range r.subs {
		if !c.quiet() {
			return false
		}
	}
	return true
}

// transcript returns what r reported, as go test -v would, but with the
// subtests that passed without a word counted rather than listed, and
// with what changes from run to run (addresses, go-cmp's spaces) made
// stable, so that it can be kept as a golden file.
func (r *recorder) transcript() string {
	var b strings.Builder
	r.write(&b, r.name)
	return b.String()
}

func (r *recorder) write(b *strings.Builder, path string) {
	fmt.Fprintf(b, "--- %s: %s\n", r.status(), path)
	for _, l := range r.lines {
		for _, line := range strings.Split(stable(l), "\n") {
			b.WriteString(strings.TrimRight("    "+line, " ") + "\n")
		}
	}
	quiet := 0
	for _, c := range r.subs {
		if c.quiet() {
			quiet++
			continue
		}
		c.write(b, path+"/"+c.name)
	}
	if quiet > 0 {
		fmt.Fprintf(b, "--- PASS: %s/... (%d more subtests, silent)\n", path, quiet)
	}
}

var (
	addr = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	// diffMark ends the line that introduces a go-cmp diff of a table.
	diffMark = "by key (-want +got):"
)

// diffLines is how many lines of each go-cmp diff a transcript keeps: the
// kit's own words are what it checks, go-cmp's are go-cmp's.
const diffLines = 6

// stable rewrites what changes between runs of one message: test servers'
// ports, and go-cmp's spaces, which it makes non-breaking at random so that
// nobody depends on its output; and it cuts go-cmp diffs short.
func stable(msg string) string {
	msg = addr.ReplaceAllString(msg, "127.0.0.1:PORT")
	msg = strings.ReplaceAll(msg, "\u00a0", " ")
	head, diff, ok := strings.Cut(msg, diffMark+"\n")
	if !ok {
		return msg
	}
	lines := strings.Split(strings.TrimRight(diff, "\n"), "\n")
	if len(lines) > diffLines {
		lines = append(lines[:diffLines], fmt.Sprintf("  … (%d more lines)", len(lines)-diffLines))
	}
	return head + diffMark + "\n" + strings.Join(lines, "\n")
}
