package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// tickEvery is how often a live region is redrawn when nothing happens,
// so that the time it shows keeps moving while a page waits or retries.
const tickEvery = 250 * time.Millisecond

// minRedraw is the least time between two redraws that events cause.
const minRedraw = 100 * time.Millisecond

// liveRegion is what Progress and ConnectorProgress share on a terminal:
// the screen, the clock, the ticker and the last retry. Its owner's mutex
// guards it.
type liveRegion struct {
	scr     screen
	now     func() time.Time
	start   time.Time
	drawnAt time.Time
	retry   retryNote
	every   time.Duration // the ticker's period; 0 for none
	stop    chan struct{} // closed when the region ends; nil before it ticks
	ended   bool
}

// retryNote is the last retry, for the line under the bar.
type retryNote struct {
	what    string // "page 12", "orders/u7 page 3"
	reason  string // "503 Service Unavailable"
	attempt int    // the attempt that comes next
	at      time.Time
}

// keepRetry is how long the retry line stays once its next attempt is due.
const keepRetry = 3 * time.Second

// retryLine returns the line about the last retry, or "" when it is old.
func (l *liveRegion) retryLine(now time.Time) string {
	r := l.retry
	if r.what == "" || now.After(r.at.Add(keepRetry)) {
		return ""
	}
	when := ""
	if wait := r.at.Sub(now); wait > 0 {
		when = " in " + short(wait)
	}
	return fmt.Sprintf("  retrying %s: %s (%s attempt%s)", r.what, r.reason, ordinal(r.attempt), when)
}

// noteRetry records a retry event: the position that failed and why.
func (l *liveRegion) noteRetry(prefix string, e paginate.Event) {
	l.retry = retryNote{what: prefix + shortPosition(e.Position), reason: Reason(e.Err), attempt: e.Attempt + 1, at: l.now().Add(e.Delay)}
}

// tick starts the goroutine that redraws the region every l.every, by
// calling redraw with the owner's mutex held through lock and unlock.
func (l *liveRegion) tick(lock, unlock func(), redraw func()) {
	if l.stop != nil || l.ended || l.every <= 0 {
		return
	}
	l.stop = make(chan struct{})
	stop := l.stop
	go func() {
		t := time.NewTicker(l.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				lock()
				if !l.ended {
					redraw()
				}
				unlock()
			}
		}
	}()
}

// end stops the ticker; the owner's mutex is held.
func (l *liveRegion) end() {
	l.ended = true
	if l.stop != nil {
		close(l.stop)
		l.stop = nil
	}
}

// Reason returns the short reason of a failed attempt, for a line a
// person reads: the status of an HTTP error ("503 Service Unavailable"),
// "timed out", or the last part of another error's text ("connection
// reset by peer"). The full error is in the log with -v, and in the
// message that ends a failed run.
func Reason(err error) string {
	if err == nil {
		return "failed"
	}
	var herr *strategies.HTTPError
	switch {
	case errors.As(err, &herr) && herr.Status != "":
		return herr.Status
	case errors.Is(err, strategies.ErrTimeout):
		return "timed out"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// shortPosition names a position in a few words: page 12, offset 600, or
// a token cut short, without the incremental bound every page shares.
func shortPosition(p paginate.Position) string {
	switch {
	case p.Page != 0:
		return "page " + strconv.FormatInt(p.Page, 10)
	case p.Offset != 0:
		return "offset " + strconv.FormatInt(p.Offset, 10)
	case p.Token != "":
		return "the page after " + cut(p.Token, 16)
	}
	return "the first page"
}

// ordinal returns 1st, 2nd, 3rd, 4th...
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// short formats a duration for a person: 0.4s, 12.3s, 4m05s, 2h10m.
func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// rate formats records a second.
func rate(n int64, d time.Duration) string {
	r := float64(n) / d.Seconds()
	switch {
	case r >= 100:
		return strconv.FormatFloat(r, 'f', 0, 64) + "/s"
	case r >= 10:
		return strconv.FormatFloat(r, 'f', 1, 64) + "/s"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "/s"
}

// field is one part of a live line, written after sep unless it is the
// first; fit drops the parts of least weight first until the line fits.
type field struct {
	sep    string
	text   string
	weight int
}

// fit joins the fields that fit in n columns, dropping the lightest
// first; the first field is cut if even it alone does not fit.
func fit(fields []field, n int) string {
	keep := make([]bool, len(fields))
	for i := range keep {
		keep[i] = fields[i].text != ""
	}
	for {
		var b strings.Builder
		kept := 0
		for i, f := range fields {
			if keep[i] {
				if kept > 0 {
					b.WriteString(f.sep)
				}
				b.WriteString(f.text)
				kept++
			}
		}
		line := b.String()
		if utf8.RuneCountInString(line) <= n || kept <= 1 {
			return cut(line, n)
		}
		light := -1
		for i, f := range fields {
			if keep[i] && i > 0 && (light < 0 || f.weight < fields[light].weight) {
				light = i
			}
		}
		keep[light] = false
	}
}

// termHandler is the slog.Handler of a live region: warnings and errors,
// in words, above the region. The records that the region itself shows
// (retries) or that the end of the run reports (a run's or a stream's
// end, a restart) are left out.
type termHandler struct {
	print func(string) // prints above the live region, locking its owner
	attrs []slog.Attr
	group string
}

// shown lists the messages the live region or the summary already say:
// the summary says the runner's warnings, each once, however many
// partitions of a stream gave it.
var shown = map[string]bool{
	"paginate: retry":        true,
	"paginate: run done":     true,
	"paginate: restart":      true,
	"paginate: warning":      true,
	"connector: stream done": true,
}

func (h *termHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *termHandler) Handle(_ context.Context, r slog.Record) error {
	if shown[r.Message] {
		return nil
	}
	var b strings.Builder
	if r.Level >= slog.LevelError {
		b.WriteString("error: ")
	} else {
		b.WriteString("warning: ")
	}
	msg := r.Message
	for _, p := range []string{"paginate: ", "connector: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	b.WriteString(msg)
	attr := func(a slog.Attr) bool {
		if a.Equal(slog.Attr{}) {
			return true
		}
		b.WriteString(" " + a.Key + "=")
		v := a.Value.Resolve().String()
		if strings.ContainsAny(v, " =\"") || v == "" {
			v = strconv.Quote(v)
		}
		b.WriteString(v)
		return true
	}
	for _, a := range h.attrs {
		attr(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		if h.group != "" {
			a.Key = h.group + "." + a.Key
		}
		return attr(a)
	})
	h.print(b.String())
	return nil
}

func (h *termHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		if h.group != "" {
			a.Key = h.group + "." + a.Key
		}
		c.attrs = append(c.attrs, a)
	}
	return &c
}

func (h *termHandler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)
