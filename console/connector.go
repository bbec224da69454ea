package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
)

// ConnectorProgress shows how a connector run of many streams is going, on
// one writer. On a terminal it draws a line, fitted to the width and
// redrawn in place: the streams done and those in flight, each child
// stream's partitions done of those known so far, records, pages, retries
// and the time, which keeps moving. A retry is summarised in one line under
// it, and other warnings are printed above it in words, but for what the
// runs cannot protect against a source that changes, which every partition
// of a child stream would say again: [ConnectorSummary] says each once.
// Otherwise, or with
// verbose, it writes plain slog text lines: one when a stream starts and
// one when it ends, warnings and errors (retries, drift, a failed
// partition), and with verbose one a committed page of every stream and
// partition. Pass Logger as connector.Config.Logger and Observe as
// Config.Observe, and call Finish when the run has returned. Its methods
// are safe for concurrent use.
type ConnectorProgress struct {
	// Logger receives the runs' log.
	Logger *slog.Logger

	mu      sync.Mutex
	live    *liveRegion // nil without a bar
	plain   *slog.Logger
	running []string // streams in flight, in the order they started
	done    int
	records int64
	pages   int
	retries int
	parts   map[string]*partCount
}

// partCount is the progress of one child stream's partitions. A partition
// starts when its parent is read, before the page of parents that holds it
// is committed, and a partition left failed by an earlier run is retried
// before the list is read at all; so the partitions known are those seen
// running or done, or the parents the list has told of, whichever is more.
type partCount struct {
	done    int
	open    map[string]bool // partitions seen and not yet done
	parents int64           // parents on the committed pages of the list
	total   int64           // the list's total, when its server tells it
}

func (c *partCount) known() int64 {
	return max(int64(c.done+len(c.open)), c.parents, c.total)
}

// NewConnectorProgress returns a ConnectorProgress writing to w. It draws
// a line when w is a terminal and verbose is false.
func NewConnectorProgress(w io.Writer, verbose bool) *ConnectorProgress {
	bar := IsTerminal(w) && !verbose
	return newConnectorProgress(w, verbose, bar, func() int { return Width(w) }, time.Now, tickEvery)
}

func newConnectorProgress(w io.Writer, verbose, bar bool, width func() int, now func() time.Time, every time.Duration) *ConnectorProgress {
	p := &ConnectorProgress{parts: make(map[string]*partCount)}
	if bar {
		p.live = &liveRegion{scr: screen{w: w, width: width}, now: now, start: now(), every: every}
		p.Logger = slog.New(&termHandler{print: p.printAbove})
		return p
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	// Two handlers write to w, from the run's goroutines and from
	// Observe's: one lock keeps their lines whole, whatever w is.
	lw := &lockedWriter{w: w}
	p.Logger = slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: level}))
	p.plain = slog.New(slog.NewTextHandler(lw, nil))
	return p
}

// lockedWriter serialises writes to a writer that need not be safe for
// concurrent use, such as a bytes.Buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Observe takes one event of the run; pass it as connector.Config.Observe.
func (p *ConnectorProgress) Observe(e connector.Event) {
	if p.plain != nil {
		switch e.Kind {
		case connector.EventStreamStarted:
			p.plain.Info("stream started", slog.String("stream", e.Stream))
		case connector.EventStreamDone:
			p.plain.LogAttrs(context.Background(), streamLevel(e.Result), "stream done", streamAttrs(e.Result)...)
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.live
	if l.ended {
		return
	}
	switch e.Kind {
	case connector.EventStreamStarted:
		p.running = append(p.running, e.Stream)
	case connector.EventStreamDone:
		p.running = slices.DeleteFunc(p.running, func(s string) bool { return s == e.Stream })
		p.done++
	case connector.EventRun:
		p.run(e)
	}
	l.tick(p.mu.Lock, p.mu.Unlock, p.redraw)
	if e.Kind != connector.EventRun || e.Run.Kind == paginate.EventRetry || l.now().Sub(l.drawnAt) >= minRedraw {
		p.redraw()
	}
}

// run counts one event of a run. p.mu is held.
func (p *ConnectorProgress) run(e connector.Event) {
	r := e.Run
	if e.Parents {
		c := p.count(e.Stream)
		if r.Kind == paginate.EventPageCommitted {
			c.parents += int64(r.Items)
		}
		c.total = max(c.total, r.TotalItems)
	}
	if e.Partition != "" {
		c := p.count(e.Stream)
		if r.Kind == paginate.EventDone {
			delete(c.open, e.Partition)
			c.done++
		} else {
			c.open[e.Partition] = true
		}
	}
	switch r.Kind {
	case paginate.EventPageCommitted:
		if !e.Parents {
			p.records += int64(r.Items)
			p.pages++
		}
	case paginate.EventRetry:
		p.retries++
		what := e.Stream + " "
		switch {
		case e.Partition != "":
			what = e.Stream + "[" + e.Partition + "] "
		case e.Parents:
			what = e.Stream + "'s parents, "
		}
		p.live.noteRetry(what, r)
	}
}

func (p *ConnectorProgress) count(stream string) *partCount {
	c := p.parts[stream]
	if c == nil {
		c = &partCount{open: make(map[string]bool)}
		p.parts[stream] = c
	}
	return c
}

// Finish ends the line drawn on a terminal, so that what follows starts
// on a line of its own. Call it when the run has returned.
func (p *ConnectorProgress) Finish() {
	if p.live == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.live
	if l.ended {
		return
	}
	l.end()
	l.retry = retryNote{}
	if l.scr.live > 0 {
		l.scr.draw(p.lines(l.now())...)
		l.scr.end()
	}
}

// redraw draws the live region again. p.mu is held.
func (p *ConnectorProgress) redraw() {
	now := p.live.now()
	p.live.scr.draw(p.lines(now)...)
	p.live.drawnAt = now
}

// lines returns the live region. p.mu is held.
func (p *ConnectorProgress) lines(now time.Time) []string {
	fields := []field{
		{"", plural(int64(p.done), "1 stream done", strconv.Itoa(p.done)+" streams done"), 100},
		{", running: ", "", 80}, // placed below
		{"; ", fmt.Sprintf("%d records", p.records), 95},
		{", ", plural(int64(p.pages), "1 page", strconv.Itoa(p.pages)+" pages"), 10},
		{", ", retries(p.retries), 70},
		{", ", short(now.Sub(p.live.start)), 90},
	}
	cols := p.live.scr.cols()
	if len(p.running) > 0 {
		// The streams in flight take the room the rest leaves, children
		// (with their partitions) first, and say how many did not fit.
		least := p.runningText(0)
		fields[1].text = least
		room := cols - utf8.RuneCountInString(fit(fields, cols)) + utf8.RuneCountInString(least)
		fields[1].text = p.runningText(room)
	}
	out := []string{fit(fields, cols)}
	if r := p.live.retryLine(now); r != "" {
		out = append(out, r)
	}
	return out
}

// runningText names the streams in flight in at most room columns, or,
// for a room of 0, in as few as it can. p.mu is held.
func (p *ConnectorProgress) runningText(room int) string {
	names := slices.Clone(p.running)
	slices.SortStableFunc(names, func(a, b string) int {
		_, ca := p.parts[a]
		_, cb := p.parts[b]
		switch {
		case ca && !cb:
			return -1
		case cb && !ca:
			return 1
		}
		return 0
	})
	var shown []string
	for i, s := range names {
		left := ""
		if n := len(names) - i - 1; n > 0 {
			left = fmt.Sprintf(" +%d more", n)
		}
		text := s
		if c := p.parts[s]; c != nil {
			text += fmt.Sprintf(" (%d of %d partitions)", c.done, c.known())
			if len(shown) == 0 && (room == 0 || utf8.RuneCountInString(text+left) > room) {
				text = fmt.Sprintf("%s %d/%d", s, c.done, c.known())
			}
		}
		if room == 0 {
			return text + left
		}
		if utf8.RuneCountInString(strings.Join(append(slices.Clone(shown), text), ", ")+left) > room {
			if len(shown) == 0 {
				return cut(text+left, room)
			}
			break
		}
		shown = append(shown, text)
	}
	text := strings.Join(shown, ", ")
	if left := len(names) - len(shown); left > 0 {
		text += fmt.Sprintf(" +%d more", left)
	}
	return text
}

// printAbove prints a log line above the live region.
func (p *ConnectorProgress) printAbove(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.live
	if l.ended || l.scr.live == 0 {
		l.scr.print(s)
		return
	}
	l.scr.print(s, p.lines(l.now())...)
}

func streamLevel(r *connector.StreamResult) slog.Level {
	if r.Err != nil && !errors.Is(r.Err, context.Canceled) || r.Partitions.Failed > 0 {
		return slog.LevelError
	}
	return slog.LevelInfo
}

func streamAttrs(r *connector.StreamResult) []slog.Attr {
	attrs := []slog.Attr{slog.String("stream", r.Stream), slog.String("status", r.Status()),
		slog.Int64("records", r.Items), slog.Int("pages", r.Pages), slog.Duration("duration", r.Duration)}
	if r.Parent != "" {
		attrs = append(attrs, slog.Int("partitions", r.Partitions.Run), slog.Int("failed", r.Partitions.Failed))
	}
	return attrs
}
