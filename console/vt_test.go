package console

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// vt is a virtual terminal of a fixed width, with endless scrollback: enough
// of one to show what a person would see of console's output. It knows
// what console writes (printable runes, \r, \n, ESC[K, ESC[J and ESC[nA)
// and wraps at the right margin as a terminal does, counting each wrap: a
// line console writes must never reach it. Any other control sequence is
// an error, so that a test notices output it does not understand.
type vt struct {
	width    int
	lines    [][]rune
	row, col int
	pending  bool // the last column was written: the next rune wraps
	wraps    int  // runes that went past the last column
	err      error
	esc      []byte // an escape sequence being read
	partial  []byte // the start of a rune cut between writes
}

func newVT(width int) *vt { return &vt{width: width, lines: [][]rune{nil}} }

func (v *vt) Write(p []byte) (int, error) {
	n := len(p)
	p = append(v.partial, p...)
	v.partial = nil
	for len(p) > 0 {
		if v.esc != nil {
			c := p[0]
			p = p[1:]
			v.esc = append(v.esc, c)
			if len(v.esc) >= 2 && (c >= 0x40 && c <= 0x7e) && !(len(v.esc) == 2 && c == '[') {
				v.control(string(v.esc))
				v.esc = nil
			}
			continue
		}
		if !utf8.FullRune(p) {
			v.partial = append([]byte(nil), p...)
			break
		}
		r, size := utf8.DecodeRune(p)
		p = p[size:]
		switch r {
		case 0x1b:
			v.esc = []byte{0x1b}
		case '\r':
			v.col, v.pending = 0, false
		case '\n':
			v.down()
			v.col, v.pending = 0, false // as a terminal with onlcr does
		default:
			if r < ' ' {
				v.fail("control character %q", r)
				continue
			}
			v.put(r)
		}
	}
	return n, nil
}

func (v *vt) fail(format string, a ...any) {
	if v.err == nil {
		v.err = fmt.Errorf(format, a...)
	}
}

func (v *vt) down() {
	v.row++
	if v.row == len(v.lines) {
		v.lines = append(v.lines, nil)
	}
}

func (v *vt) put(r rune) {
	if v.pending {
		v.wraps++
		v.down()
		v.col, v.pending = 0, false
	}
	line := v.lines[v.row]
	for len(line) <= v.col {
		line = append(line, ' ')
	}
	line[v.col] = r
	v.lines[v.row] = line
	if v.col == v.width-1 {
		v.pending = true
	} else {
		v.col++
	}
}

func (v *vt) control(seq string) {
	body := strings.TrimPrefix(seq, "\x1b[")
	if body == seq || body == "" {
		v.fail("escape sequence %q", seq)
		return
	}
	final := body[len(body)-1]
	arg := body[:len(body)-1]
	switch {
	case final == 'K' && (arg == "" || arg == "0"):
		if v.col < len(v.lines[v.row]) {
			v.lines[v.row] = v.lines[v.row][:v.col]
		}
	case final == 'J' && (arg == "" || arg == "0"):
		if v.col < len(v.lines[v.row]) {
			v.lines[v.row] = v.lines[v.row][:v.col]
		}
		for i := v.row + 1; i < len(v.lines); i++ {
			v.lines[i] = nil
		}
	case final == 'A':
		n := 1
		if arg != "" {
			var err error
			if n, err = strconv.Atoi(arg); err != nil {
				v.fail("escape sequence %q", seq)
				return
			}
		}
		v.row = max(v.row-n, 0)
		v.pending = false
	default:
		v.fail("escape sequence %q", seq)
	}
}

// screen returns every line written, scrollback included, without the
// empty lines at the end.
func (v *vt) screen() []string {
	last := len(v.lines) - 1
	for last > 0 && len(v.lines[last]) == 0 {
		last--
	}
	out := make([]string, last+1)
	for i := range out {
		out[i] = strings.TrimRight(string(v.lines[i]), " ")
	}
	return out
}

// frame returns the screen as text, a line a row.
func (v *vt) frame() string { return strings.Join(v.screen(), "\n") + "\n" }
