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

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
)

// ConnectorProgress shows how a connector run of many streams is going, on
// one writer. On a terminal it draws one line redrawn in place: the streams
// done and those in flight, each child stream's partitions done against the
// parents read so far, records, pages, retries and time, with warnings
// printed above it. Otherwise it writes plain slog text lines: one when a
// stream starts and one when it ends, warnings and errors (retries, drift,
// a failed partition), and with verbose one a committed page of every
// stream and partition. Pass Logger as connector.Config.Logger and Observe
// as Config.Observe. Its methods are safe for concurrent use.
type ConnectorProgress struct {
	// Logger receives the runs' log.
	Logger *slog.Logger

	mu      sync.Mutex
	w       io.Writer
	bar     bool
	plain   *slog.Logger // stream lines, when there is no bar
	drawn   bool
	drawnAt time.Time
	start   time.Time
	running []string // streams in flight, in the order they started
	done    int
	records int64
	pages   int
	retries int
	parts   map[string]*partCount
}

// partCount is the progress of one child stream's partitions.
type partCount struct {
	parents int64
	done    int
}

// NewConnectorProgress returns a ConnectorProgress writing to w. It draws
// a line when w is a terminal and verbose is false.
func NewConnectorProgress(w io.Writer, verbose bool) *ConnectorProgress {
	p := &ConnectorProgress{w: w, bar: IsTerminal(w) && !verbose, start: time.Now(), parts: make(map[string]*partCount)}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelInfo
	}
	h := slog.NewTextHandler(writerFunc(p.write), &slog.HandlerOptions{Level: level})
	p.Logger = slog.New(h)
	if !p.bar {
		p.plain = slog.New(slog.NewTextHandler(writerFunc(p.write), nil))
	}
	return p
}

// Observe takes one event of the run; pass it as connector.Config.Observe.
func (p *ConnectorProgress) Observe(e connector.Event) {
	p.mu.Lock()
	switch e.Kind {
	case connector.EventStreamStarted:
		p.running = append(p.running, e.Stream)
	case connector.EventStreamDone:
		p.running = slices.DeleteFunc(p.running, func(s string) bool { return s == e.Stream })
		p.done++
	case connector.EventRun:
		p.run(e)
	}
	redraw := p.bar && (e.Kind != connector.EventRun || time.Since(p.drawnAt) >= 100*time.Millisecond)
	p.mu.Unlock()

	switch {
	case redraw:
		p.mu.Lock()
		p.draw()
		p.mu.Unlock()
	case p.plain != nil && e.Kind == connector.EventStreamStarted:
		p.plain.Info("stream started", slog.String("stream", e.Stream))
	case p.plain != nil && e.Kind == connector.EventStreamDone:
		p.plain.LogAttrs(context.Background(), streamLevel(e.Result), "stream done", streamAttrs(e.Result)...)
	}
}

// run counts one event of a run. p.mu is held.
func (p *ConnectorProgress) run(e connector.Event) {
	r := e.Run
	if e.Parents {
		if r.Kind == paginate.EventPageCommitted {
			p.count(e.Stream).parents += int64(r.Items)
		}
		return
	}
	switch r.Kind {
	case paginate.EventPageCommitted:
		p.records += int64(r.Items)
		p.pages++
	case paginate.EventRetry:
		p.retries++
	case paginate.EventDone:
		if e.Partition != "" {
			p.count(e.Stream).done++
		}
	}
}

func (p *ConnectorProgress) count(stream string) *partCount {
	c := p.parts[stream]
	if c == nil {
		c = &partCount{}
		p.parts[stream] = c
	}
	return c
}

// Finish ends the line drawn on a terminal, so that what follows starts
// on a line of its own. Call it when the run has returned.
func (p *ConnectorProgress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		p.draw()
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// draw redraws the line in place. p.mu is held.
func (p *ConnectorProgress) draw() {
	var b strings.Builder
	b.WriteString("\r\x1b[K")
	fmt.Fprintf(&b, "%d streams done", p.done)
	if len(p.running) > 0 {
		b.WriteString(", running:")
		for _, s := range p.running {
			b.WriteString(" " + s)
			if c := p.parts[s]; c != nil {
				fmt.Fprintf(&b, " (%d/%d partitions)", c.done, c.parents)
			}
		}
	}
	fmt.Fprintf(&b, "; %d records, %d pages", p.records, p.pages)
	if p.retries > 0 {
		fmt.Fprintf(&b, ", %d %s", p.retries, plural(int64(p.retries), "retry", "retries"))
	}
	fmt.Fprintf(&b, ", %v", time.Since(p.start).Round(100*time.Millisecond))
	io.WriteString(p.w, b.String())
	p.drawn, p.drawnAt = true, time.Now()
}

// write prints a log line, above the drawn line if there is one.
func (p *ConnectorProgress) write(b []byte) (int, error) {
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

func streamLevel(r *connector.StreamResult) slog.Level {
	if r.Err != nil || r.Partitions.Failed > 0 {
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

// ConnectorSummary prints a connector run's outcome: a line that says how
// it went, one row a stream (parent, status, partitions, pages, records,
// retries, why it stopped, duration), and the error of each stream that
// failed. For example:
//
//	Sync of 3 streams complete in 1.2s.
//	+--------+--------+----------+------------+-------+---------+---------+---------------+----------+
//	| stream | parent | status   | partitions | pages | records | retries | stop          | duration |
//	+--------+--------+----------+------------+-------+---------+---------+---------------+----------+
//	| users  |        | complete |            | 4     | 200     | 0       | total reached | 41ms     |
//	| orders | users  | complete | 200        | 231   | 6012    | 0       | total reached | 1.2s     |
//	| events |        | complete |            | 8     | 200     | 0       | no next token | 80ms     |
//	+--------+--------+----------+------------+-------+---------+---------+---------------+----------+
func ConnectorSummary(w io.Writer, res connector.Result, err error) {
	fmt.Fprintf(w, "Sync of %d %s %s in %v.\n", len(res.Streams), plural(int64(len(res.Streams)), "stream", "streams"),
		connectorStatus(res, err), res.Duration.Round(time.Millisecond))
	cells := [][]string{{"stream", "parent", "status", "partitions", "pages", "records", "retries", "stop", "duration"}}
	for _, r := range res.Streams {
		cells = append(cells, []string{r.Stream, r.Parent, r.Status(), partitions(r),
			strconv.Itoa(r.Pages), strconv.FormatInt(r.Items, 10), strconv.Itoa(r.Retries), r.Stop.String(),
			r.Duration.Round(time.Millisecond).String()})
	}
	printGrid(w, cells)
	for _, r := range res.Streams {
		if r.Err != nil {
			fmt.Fprintf(w, "%s: %v\n", r.Stream, r.Err)
		}
	}
	if err != nil && len(res.Streams) == 0 {
		fmt.Fprintf(w, "error: %v\n", err)
	}
}

// partitions is the partitions cell of a stream's row.
func partitions(r connector.StreamResult) string {
	if r.Parent == "" {
		return ""
	}
	p := r.Partitions
	s := strconv.Itoa(p.Run)
	var notes []string
	if p.Failed > 0 {
		notes = append(notes, strconv.Itoa(p.Failed)+" failed")
	}
	if p.Interrupted > 0 {
		notes = append(notes, strconv.Itoa(p.Interrupted)+" interrupted")
	}
	if p.Retried > 0 {
		notes = append(notes, strconv.Itoa(p.Retried)+" retried")
	}
	if len(notes) > 0 {
		s += " (" + strings.Join(notes, ", ") + ")"
	}
	return s
}

// connectorStatus says in a word or two how the run went.
func connectorStatus(res connector.Result, err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case err != nil:
		return "failed"
	case !res.Complete():
		return "stopped early"
	}
	return "complete"
}
