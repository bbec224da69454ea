package console

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

// IsTerminal reports whether w is a terminal (a character device), with
// no dependency beyond the standard library.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Progress shows how a run is going on one writer. On a terminal it draws
// a bar redrawn in place (records, percentage of the server's total when
// one is known, pages, retries, time) with warnings printed above it;
// otherwise, as under cron or in a captured log, it writes plain slog text
// lines, one a committed page. Pass Logger and Observe to
// paginate.Options. Its methods are safe for concurrent use.
type Progress struct {
	// Logger receives the run's log: on a terminal only warnings and
	// errors (retries, drift), printed above the bar; otherwise one line a
	// committed page too, and with verbose one a fetched page.
	Logger *slog.Logger

	mu      sync.Mutex
	w       io.Writer
	stream  string
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

// NewProgress returns a Progress writing to w for the named stream. It
// draws a bar when w is a terminal and verbose is false; verbose logs a
// line for every page fetched as well, which shows parallel fetching at
// work.
func NewProgress(w io.Writer, stream string, verbose bool) *Progress {
	p := &Progress{w: w, stream: stream, bar: IsTerminal(w) && !verbose, verbose: verbose, start: time.Now()}
	level := slog.LevelInfo
	switch {
	case p.bar:
		level = slog.LevelWarn
	case verbose:
		level = slog.LevelDebug
	}
	p.Logger = slog.New(slog.NewTextHandler(writerFunc(p.write), &slog.HandlerOptions{Level: level}))
	return p
}

// Observe takes one event of the run; pass it as paginate.Options.Observe.
func (p *Progress) Observe(e paginate.Event) {
	if p.verbose && e.Kind == paginate.EventPageFetched {
		p.Logger.LogAttrs(context.Background(), slog.LevelDebug, "page fetched", slog.String("stream", e.Stream),
			slog.String("position", e.Position.String()), slog.Int("items", e.Items))
	}
	if !p.bar {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Kind {
	case paginate.EventPageCommitted:
		if !p.based {
			// Page-number and offset positions count the records before
			// them, so a resumed run's bar starts where the last one ended.
			p.base, p.based = e.Position.Offset, true
		}
		p.done, p.total, p.pages = p.base+e.ItemsDone, e.TotalItems, e.Pages
		if time.Since(p.drawnAt) >= 100*time.Millisecond {
			p.draw()
		}
	case paginate.EventRetry:
		p.retries++
	case paginate.EventDone:
		if e.Result != nil {
			p.done, p.pages = p.base+e.Result.Items, e.Result.Pages
		}
		p.draw()
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// draw redraws the bar line in place. p.mu is held.
func (p *Progress) draw() {
	const width = 30
	var b strings.Builder
	b.WriteString("\r\x1b[K")
	fmt.Fprintf(&b, "%s ", p.stream)
	if p.total > 0 {
		frac := min(float64(p.done)/float64(p.total), 1)
		n := int(frac * width)
		fmt.Fprintf(&b, "[%s%s] %3.0f%% %d/%d records", strings.Repeat("#", n), strings.Repeat(".", width-n), 100*frac, p.done, p.total)
	} else {
		fmt.Fprintf(&b, "%d records", p.done)
	}
	fmt.Fprintf(&b, ", %d pages", p.pages)
	switch {
	case p.retries == 1:
		b.WriteString(", 1 retry")
	case p.retries > 1:
		fmt.Fprintf(&b, ", %d retries", p.retries)
	}
	fmt.Fprintf(&b, ", %v", time.Since(p.start).Round(100*time.Millisecond))
	io.WriteString(p.w, b.String())
	p.drawn, p.drawnAt = true, time.Now()
}

// write prints a log line, above the bar when one is drawn.
func (p *Progress) write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		io.WriteString(p.w, "\r\x1b[K")
	}
	n, err := p.w.Write(b)
	if p.drawn {
		p.draw()
	}
	return n, err
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
