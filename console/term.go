package console

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal: an *os.File whose file
// descriptor is a TTY. A pipe, a regular file and /dev/null are not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// defaultWidth is the width assumed when a terminal does not tell its own
// and COLUMNS does not either.
const defaultWidth = 80

// Width returns the number of columns of the terminal w writes to: the
// terminal's own figure, else COLUMNS, else 80. Lines drawn in place are cut
// to fit it, and messages are wrapped to it.
func Width(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return defaultWidth
}

// screen is the bottom of a terminal: lines printed above a live region of
// a few lines that is redrawn in place. Every line it writes fits the
// width: printed lines are wrapped, live lines are cut. It is not safe for
// concurrent use; its owner locks.
type screen struct {
	w     io.Writer
	width func() int
	live  int // lines of the live region now on screen; 0 when none
}

// cols returns the columns a line may fill. A line as wide as the
// terminal would leave some terminals waiting to wrap, and the next
// carriage return would then act on the line below: keep one free.
func (s *screen) cols() int {
	return max(s.width()-1, 20)
}

// clear erases the live region and leaves the cursor at its start.
func (s *screen) clear(b *strings.Builder) {
	if s.live == 0 {
		return
	}
	b.WriteString("\r")
	if s.live > 1 {
		b.WriteString("\x1b[" + strconv.Itoa(s.live-1) + "A")
	}
	b.WriteString("\x1b[J")
	s.live = 0
}

// draw redraws the live region as lines, each cut to the width.
func (s *screen) draw(lines ...string) {
	var b strings.Builder
	s.clear(&b)
	s.put(&b, lines)
	io.WriteString(s.w, b.String())
}

func (s *screen) put(b *strings.Builder, lines []string) {
	cols := s.cols()
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(cut(l, cols))
	}
	s.live = len(lines)
}

// print writes text above the live region, each of its lines wrapped to
// the width, and draws lines as the live region again below it.
func (s *screen) print(text string, lines ...string) {
	var b strings.Builder
	s.clear(&b)
	for _, l := range wrap(strings.TrimRight(text, "\n"), s.cols()) {
		b.WriteString(l)
		b.WriteString("\n")
	}
	if len(lines) > 0 {
		s.put(&b, lines)
	}
	io.WriteString(s.w, b.String())
}

// end leaves the live region on screen as it is and moves below it, so
// that what follows starts on a line of its own.
func (s *screen) end() {
	if s.live > 0 {
		io.WriteString(s.w, "\n")
		s.live = 0
	}
}

// cut shortens s to at most n columns, ending it with "…" when it was
// cut. Every rune counts as one column: what console draws is ASCII, but
// for names and messages from elsewhere.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-1, 0)]) + "…"
}

// wrap splits text into lines of at most n columns, at spaces where it
// can, indenting the lines that continue one of the text's own lines by
// two spaces.
func wrap(text string, n int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		for i, l := range fill(line, n, n-2) {
			if i > 0 {
				l = "  " + l
			}
			out = append(out, l)
		}
	}
	return out
}

// fill splits a line of text at spaces where it can: its first line of at
// most first columns, the others of at most rest. A word longer than a
// line is broken.
func fill(text string, first, rest int) []string {
	var out []string
	room := max(first, 1)
	for {
		r := []rune(text)
		if len(r) <= room {
			return append(out, text)
		}
		head, tail := string(r[:room]), string(r[room:]) // no space: break the word
		if at := strings.LastIndex(string(r[:room+1]), " "); at > 0 {
			cut := string(r[:room+1])
			head, tail = cut[:at], cut[at+1:]+string(r[room+1:])
		}
		out = append(out, strings.TrimRight(head, " "))
		text = strings.TrimLeft(tail, " ")
		room = max(rest, 1)
		if text == "" {
			return out
		}
	}
}

// hang returns head followed by text filled to cols columns, the lines
// after the first indented by indent spaces. A head that leaves too
// little room for text stands on a line of its own.
func hang(head, text string, indent, cols int) []string {
	var out []string
	margin := strings.Repeat(" ", indent)
	if room := cols - utf8.RuneCountInString(head); room < min(20, utf8.RuneCountInString(text)) && strings.TrimSpace(head) != "" {
		out = append(out, cut(strings.TrimRight(head, " "), cols))
		head = margin
	}
	for i, l := range fill(text, cols-utf8.RuneCountInString(head), cols-indent) {
		if i == 0 {
			out = append(out, head+l)
		} else {
			out = append(out, margin+l)
		}
	}
	return out
}

// printWrapped prints text wrapped to a terminal of width columns, or as
// it is when width is 0 (not a terminal).
func printWrapped(w io.Writer, width int, text string) {
	if width > 0 {
		text = strings.Join(wrap(text, max(width-1, 20)), "\n")
	}
	fmt.Fprintln(w, text)
}

// pad pads s with spaces to n columns.
func pad(s string, n int) string {
	return s + strings.Repeat(" ", max(n-utf8.RuneCountInString(s), 0))
}
