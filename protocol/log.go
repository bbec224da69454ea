package protocol

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// LogHandler is a slog.Handler that hands each record, as one line of
// text, to a function that writes it the way a protocol carries log lines
// (Airbyte's LOG messages, Fivetran's JSON lines on stdout, Singer's
// stderr). The line is the message followed by the attributes as
// key=value, values quoted when they hold spaces.
type LogHandler struct {
	level slog.Leveler
	write func(level slog.Level, line string)
	attrs string // preformatted attributes of WithAttrs
	group string // prefix of WithGroup
}

// NewLogHandler returns a handler of the records at level or above (nil
// means slog.LevelInfo) that calls write for each. write may be called
// from several goroutines at once.
func NewLogHandler(level slog.Leveler, write func(level slog.Level, line string)) *LogHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &LogHandler{level: level, write: write}
}

// Enabled reports whether level is at or above the handler's.
func (h *LogHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// Handle formats r and writes it.
func (h *LogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		appendAttr(&b, h.group, a)
		return true
	})
	h.write(r.Level, b.String())
	return nil
}

// WithAttrs returns a handler that adds attrs to every line.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, h.group, a)
	}
	h2 := *h
	h2.attrs = b.String()
	return &h2
}

// WithGroup returns a handler that prefixes the keys of later attributes
// with name.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.group = h.group + name + "."
	return &h2
}

func appendAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			appendAttr(b, g, ga)
		}
		return
	}
	b.WriteByte(' ')
	b.WriteString(group)
	b.WriteString(a.Key)
	b.WriteByte('=')
	var s string
	switch a.Value.Kind() {
	case slog.KindDuration:
		s = a.Value.Duration().Round(time.Millisecond).String()
	case slog.KindTime:
		s = a.Value.Time().UTC().Format(time.RFC3339)
	default:
		s = a.Value.String()
	}
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || r == '=' || !unicode.IsPrint(r) }) {
		s = strconv.Quote(s)
	}
	b.WriteString(s)
}
