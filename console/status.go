package console

import (
	"io"
	"strings"
	"sync"
	"time"
)

// Status shows what a long-running process, such as a worker, is doing,
// on one writer. On a terminal (and without verbose) it keeps one line at
// the bottom, fitted to the width and redrawn in place, followed by the
// time since it started, which keeps moving; lines printed with Print go
// above it. Otherwise every Print is a line of its own, as in a log, and
// Set does nothing: a process under a supervisor says what it did, line
// by line. It is an io.Writer too, for a logger whose lines should take
// turns with it. Its methods are safe for concurrent use.
type Status struct {
	mu   sync.Mutex
	w    io.Writer
	live *liveRegion // nil when not on a terminal
	text string
}

// NewStatus returns a Status writing to w. It keeps a live line when w is
// a terminal and verbose is false.
func NewStatus(w io.Writer, verbose bool) *Status {
	return newStatus(w, IsTerminal(w) && !verbose, func() int { return Width(w) }, time.Now, tickEvery)
}

func newStatus(w io.Writer, live bool, width func() int, now func() time.Time, every time.Duration) *Status {
	s := &Status{w: w}
	if live {
		s.live = &liveRegion{scr: screen{w: w, width: width}, now: now, start: now(), every: every}
	}
	return s
}

// Live reports whether the Status keeps a live line: whether a line for
// each event would be too many.
func (s *Status) Live() bool { return s.live != nil }

// Set replaces the live line's text.
func (s *Status) Set(text string) {
	if s.live == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live.ended {
		return
	}
	s.text = text
	s.live.tick(s.mu.Lock, s.mu.Unlock, s.redraw)
	s.redraw()
}

// Print prints a line: above the live line, or as a line of its own.
func (s *Status) Print(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live == nil {
		io.WriteString(s.w, line+"\n")
		return
	}
	if s.live.ended || s.live.scr.live == 0 {
		s.live.scr.print(line)
		return
	}
	s.live.scr.print(line, s.line())
}

// Write prints p's lines with Print, so that a logger or anything else
// that writes to the Status's writer takes turns with it.
func (s *Status) Write(p []byte) (int, error) {
	s.Print(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// Close leaves the live line as it is, on a line of its own, and stops
// redrawing it.
func (s *Status) Close() {
	if s.live == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live.ended {
		return
	}
	s.live.end()
	if s.live.scr.live > 0 {
		s.live.scr.draw(s.line())
		s.live.scr.end()
	}
}

// redraw draws the live line again. s.mu is held.
func (s *Status) redraw() { s.live.scr.draw(s.line()) }

// line returns the live line. s.mu is held.
func (s *Status) line() string {
	elapsed := ", " + short(s.live.now().Sub(s.live.start))
	cols := s.live.scr.cols()
	return cut(s.text, max(cols-len(elapsed), cols/2)) + elapsed
}
