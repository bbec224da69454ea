// Package progress shows how a sync is going: a bar redrawn in place when
// the output is a terminal, and plain structured log lines otherwise, so that
// a sync run by cron or captured by a test logs one line a page.
package progress

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pagekit/pagekit/paginate"
)

// IsTerminal reports whether w is a terminal (a character device). It
// needs no dependency beyond the standard library.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Reporter turns a run's events and log records into output on one
// writer. Pass Logger and Observe to paginate.Options.
type Reporter struct {
	// Logger receives the runner's log: on a terminal only warnings and
	// errors (retries, drift), printed above the bar; otherwise one line
	// a committed page too.
	Logger *slog.Logger

	mu      sync.Mutex
	w       io.Writer
	name    string
	bar     bool
	verbose bool
	drawn   bool      // a bar line is on screen
	drawnAt time.Time // when it was last drawn
	start   time.Time
	base    int64 // records before the position the run started from
	based   bool
	done    int64
	total   int64
	pages   int
	retries int
}

// New returns a Reporter writing to w for the stream name. It draws a bar
// when w is a terminal and verbose is false; verbose adds a debug line for
// every page fetched, which shows parallel fetching at work.
func New(w io.Writer, name string, verbose bool) *Reporter {
	r := &Reporter{w: w, name: name, bar: IsTerminal(w) && !verbose, verbose: verbose, start: time.Now()}
	level := slog.LevelInfo
	switch {
	case r.bar:
		level = slog.LevelWarn
	case verbose:
		level = slog.LevelDebug
	}
	r.Logger = slog.New(slog.NewTextHandler(writerFunc(r.write), &slog.HandlerOptions{Level: level}))
	return r
}

// Observe takes one event of the run; pass it as paginate.Options.Observe.
func (r *Reporter) Observe(e paginate.Event) {
	if r.verbose && e.Kind == paginate.EventPageFetched {
		r.Logger.LogAttrs(context.Background(), slog.LevelDebug, "page fetched", slog.String("stream", e.Stream),
			slog.String("position", e.Position.String()), slog.Int("items", e.Items))
	}
	if !r.bar {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e.Kind {
	case paginate.EventPageCommitted:
		if !r.based {
			// Page-number and offset positions count the records before
			// them, so a resumed run's bar starts where the last one ended.
			r.base, r.based = e.Position.Offset, true
		}
		r.done, r.total, r.pages = r.base+e.ItemsDone, e.TotalItems, e.Pages
		if time.Since(r.drawnAt) >= 100*time.Millisecond {
			r.draw()
		}
	case paginate.EventRetry:
		r.retries++
	case paginate.EventDone:
		if e.Result != nil {
			r.done, r.pages = r.base+e.Result.Items, e.Result.Pages
		}
		r.draw()
		fmt.Fprintln(r.w)
		r.drawn = false
	}
}

// draw redraws the bar line in place. r.mu is held.
func (r *Reporter) draw() {
	const width = 30
	var b strings.Builder
	b.WriteString("\r\x1b[K")
	fmt.Fprintf(&b, "%s ", r.name)
	if r.total > 0 {
		frac := min(float64(r.done)/float64(r.total), 1)
		n := int(frac * width)
		fmt.Fprintf(&b, "[%s%s] %3.0f%% %d/%d records", strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, r.done, r.total)
	} else {
		fmt.Fprintf(&b, "%d records", r.done)
	}
	fmt.Fprintf(&b, ", %d pages", r.pages)
	switch {
	case r.retries == 1:
		b.WriteString(", 1 retry")
	case r.retries > 1:
		fmt.Fprintf(&b, ", %d retries", r.retries)
	}
	fmt.Fprintf(&b, ", %v", time.Since(r.start).Round(100*time.Millisecond))
	io.WriteString(r.w, b.String())
	r.drawn, r.drawnAt = true, time.Now()
}

// write prints a log line, above the bar when one is drawn.
func (r *Reporter) write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.drawn {
		io.WriteString(r.w, "\r\x1b[K")
	}
	n, err := r.w.Write(p)
	if r.drawn {
		r.draw()
	}
	return n, err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
