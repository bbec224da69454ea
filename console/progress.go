package console

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pagekit/pagekit/paginate"
)

// Progress shows how a run is going on one writer.
//
// On a terminal it draws a bar that fits the terminal's width and is
// redrawn in place: records (of the server's total, when one is known),
// pages, retries, rate, elapsed time and the time left, the least useful
// dropped first when the width is short. Its time keeps moving while a
// page waits. A retry is summarised in one line under the bar (the page,
// the reason, the attempt that comes next and when), and other warnings,
// such as drift, are printed above it in words, but for what the run
// cannot protect against a source that changes (Result.Warnings), which
// [Summary] says. What went wrong, if anything, is for [Report] to say
// once, at the end.
//
// Otherwise (stderr redirected to a file, run by cron or a scheduler), or
// with verbose, it writes plain slog text lines, one per event: each page
// committed, each retry with its full error, the run's end; verbose adds a
// line per page fetched.
//
// Pass Logger and Observe to paginate.Options. Its methods are safe for
// concurrent use.
type Progress struct {
	// Logger receives the run's log.
	Logger *slog.Logger

	mu      sync.Mutex
	w       io.Writer
	live    *liveRegion // nil without a bar
	stream  string
	verbose bool
	base    int64 // records before the position the run started from
	based   bool
	done    int64
	total   int64
	pages   int
	retries int
	first   time.Time // the first page committed: the rate counts from it
}

// NewProgress returns a Progress writing to w for the named stream. It
// draws a bar when w is a terminal and verbose is false; verbose logs a
// line for every page fetched as well, which shows parallel fetching at
// work.
func NewProgress(w io.Writer, stream string, verbose bool) *Progress {
	bar := IsTerminal(w) && !verbose
	return newProgress(w, stream, verbose, bar, func() int { return Width(w) }, time.Now, tickEvery)
}

// newProgress is NewProgress with the terminal's answers given, for
// tests.
func newProgress(w io.Writer, stream string, verbose, bar bool, width func() int, now func() time.Time, every time.Duration) *Progress {
	p := &Progress{w: w, stream: stream, verbose: verbose}
	if !bar {
		level := slog.LevelInfo
		if verbose {
			level = slog.LevelDebug
		}
		p.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
		return p
	}
	p.live = &liveRegion{scr: screen{w: w, width: width}, now: now, start: now(), every: every}
	p.Logger = slog.New(&termHandler{print: p.printAbove})
	return p
}

// Observe takes one event of the run; pass it as paginate.Options.Observe.
func (p *Progress) Observe(e paginate.Event) {
	if p.verbose && e.Kind == paginate.EventPageFetched {
		p.Logger.Debug("page fetched", slog.String("stream", e.Stream),
			slog.String("position", e.Position.String()), slog.Int("items", e.Items))
	}
	if p.live == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.live
	if l.ended {
		return
	}
	now := l.now()
	switch e.Kind {
	case paginate.EventPageCommitted:
		if !p.based {
			// Page-number and offset positions count the records before
			// them, so a resumed run's bar starts where the last one ended.
			p.base, p.based, p.first = e.Position.Offset, true, now
		}
		p.done, p.total, p.pages = p.base+e.ItemsDone, e.TotalItems, e.Pages
	case paginate.EventRetry:
		p.retries++
		l.noteRetry("", e)
	case paginate.EventDone:
		if e.Result != nil {
			p.done, p.pages = p.base+e.Result.Items, e.Result.Pages
			if e.Result.TotalItems > 0 {
				p.total = e.Result.TotalItems
			}
		}
		l.retry = retryNote{}
		l.end()
		if l.scr.live == 0 && p.pages == 0 {
			return // it stopped before its first page: the summary says so
		}
		l.scr.draw(p.lines(now)...)
		l.scr.end()
		return
	}
	l.tick(p.mu.Lock, p.mu.Unlock, p.redraw)
	if e.Kind == paginate.EventRetry || now.Sub(l.drawnAt) >= minRedraw {
		p.redraw()
	}
}

// redraw draws the live region again. p.mu is held.
func (p *Progress) redraw() {
	now := p.live.now()
	p.live.scr.draw(p.lines(now)...)
	p.live.drawnAt = now
}

// lines returns the live region: the bar, and the last retry while it is
// recent. p.mu is held.
func (p *Progress) lines(now time.Time) []string {
	out := []string{p.bar(now)}
	if r := p.live.retryLine(now); r != "" {
		out = append(out, r)
	}
	return out
}

// barWidth is the widest the bar's #### part is drawn; it narrows, down to
// minBar, before the other fields are dropped.
const (
	barWidth = 30
	minBar   = 10
)

// bar returns the bar line, fitted to the screen's width. p.mu is held.
func (p *Progress) bar(now time.Time) string {
	elapsed := now.Sub(p.live.start)
	var records, pct, eta, speed string
	if p.total > 0 {
		records = fmt.Sprintf("%d/%d records", p.done, p.total)
		pct = fmt.Sprintf("%3.0f%%", 100*min(float64(p.done)/float64(p.total), 1))
	} else {
		records = fmt.Sprintf("%d records", p.done)
	}
	if n := p.done - p.base; n > 0 && !p.first.IsZero() {
		if d := now.Sub(p.live.start); d > 0 {
			speed = rate(n, d)
			if p.total > p.done {
				eta = "ETA " + short(time.Duration(float64(p.total-p.done)/float64(n)*float64(d)))
			}
		}
	}
	fields := []field{
		{"", p.stream, 100},
		{" ", "", 50}, // the bar, placed below
		{" ", pct, 60},
		{" ", records, 90},
		{", ", plural(int64(p.pages), "1 page", strconv.Itoa(p.pages)+" pages"), 10},
		{", ", retries(p.retries), 70},
		{", ", short(elapsed), 80},
		{", ", eta, 40},
		{", ", speed, 20},
	}
	cols := p.live.scr.cols()
	if p.total > 0 {
		// The bar takes the room the other fields leave, from minBar up
		// to barWidth, and goes before the rate and the pages do.
		fields[1].text = "[" + strings.Repeat(".", minBar) + "]"
		line := fit(fields, cols)
		if strings.Contains(line, fields[1].text) {
			n := min(barWidth, minBar+cols-utf8.RuneCountInString(line))
			frac := min(float64(p.done)/float64(p.total), 1)
			k := int(frac * float64(n))
			fields[1].text = "[" + strings.Repeat("#", k) + strings.Repeat(".", n-k) + "]"
		} else {
			fields[1].text = ""
		}
	}
	return fit(fields, cols)
}

func retries(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "1 retry"
	}
	return strconv.Itoa(n) + " retries"
}

// printAbove prints a log line above the live region.
func (p *Progress) printAbove(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.live
	if l.ended || l.scr.live == 0 {
		l.scr.print(s)
		return
	}
	l.scr.print(s, p.lines(l.now())...)
}
