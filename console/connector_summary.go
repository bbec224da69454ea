package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagekit/pagekit/connector"
)

// ConnectorSummary prints a connector run's outcome: a line that says how
// it went, one row a stream (parent, status, partitions, pages, records,
// retries, why it stopped, duration), then in words the streams whose data
// moved during the run (drift) and what a stream could not protect against
// a source that changes (connector.StreamResult.Warnings), each warning
// once. What went wrong is for [Report] to say, once, at the end; when no
// stream ran (an unknown stream was asked for), it prints nothing. For
// example:
//
//	Sync of 3 streams complete in 1.2s.
//	+--------+--------+----------+------------+-------+---------+---------+---------------+----------+
//	| stream | parent | status   | partitions | pages | records | retries | stop          | duration |
//	+--------+--------+----------+------------+-------+---------+---------+---------------+----------+
//	| users  |        | complete |            | 4     | 200     | 0       | total reached | 41ms     |
//	| orders | users  | complete | 200        | 231   | 6012    | 0       | total reached | 1.2s     |
//	| events |        | complete |            | 8     | 200     | 0       | no next token | 80ms     |
//	+--------+--------+----------+------------+-------+---------+---------+---------------+----------+
//
// On a terminal too narrow for the table, each stream takes a line of its
// own instead: its name and status in columns, then what it did in words,
// and a child stream's partitions on the line below:
//
//	Sync of 3 streams complete in 1.2s.
//	  users   complete  200 records, 4 pages, 41ms
//	  orders  complete  6012 records, 231 pages, 1.2s
//	                    200 partitions of users
//	  events  complete  200 records, 8 pages, 80ms
func ConnectorSummary(w io.Writer, res connector.Result, err error) {
	connectorSummary(w, terminalWidth(w), res, err)
}

// connectorSummary is ConnectorSummary for a terminal of width columns,
// or for none when width is 0.
func connectorSummary(w io.Writer, width int, res connector.Result, err error) {
	if len(res.Streams) == 0 && err != nil {
		return
	}
	printWrapped(w, width, fmt.Sprintf("Sync of %d %s %s in %v.", len(res.Streams), plural(int64(len(res.Streams)), "stream", "streams"),
		connectorStatus(res, err), res.Duration.Round(time.Millisecond)))
	cells := [][]string{{"stream", "parent", "status", "partitions", "pages", "records", "retries", "stop", "duration"}}
	for _, r := range res.Streams {
		cells = append(cells, []string{r.Stream, r.Parent, r.Status(), partitions(r),
			strconv.Itoa(r.Pages), strconv.FormatInt(r.Items, 10), strconv.Itoa(r.Retries), r.Stop.String(),
			r.Duration.Round(time.Millisecond).String()})
	}
	if width == 0 || gridWidth(columnWidths(cells)) < width {
		printGrid(w, cells, 0)
	} else {
		streamLines(w, width, res)
	}
	for _, n := range connectorNotes(res) {
		printWrapped(w, width, n)
	}
}

// maxName is the widest the column of stream names is in streamLines; a
// longer name pushes the rest of its line to the right.
const maxName = 24

// streamLines prints a line a stream, for a terminal too narrow for the
// table: the stream's name and status in columns, then what it did in
// words, wrapped under itself; a child's partitions on a line below.
func streamLines(w io.Writer, width int, res connector.Result) {
	nameW, statusW := 0, 0
	for _, r := range res.Streams {
		nameW = max(nameW, min(utf8.RuneCountInString(r.Stream), maxName))
		statusW = max(statusW, len(r.Status()))
	}
	cols := max(width-1, 20)
	indent := 2 + nameW + 2 + statusW + 2
	if cols-indent < 20 {
		indent = 4 // too narrow for columns: what it did goes under the name
	}
	for _, r := range res.Streams {
		head := "  " + pad(r.Stream, nameW) + "  " + pad(r.Status(), statusW) + "  "
		lines := hang(head, streamDone(r), indent, cols)
		if r.Parent != "" {
			text := plural(int64(r.Partitions.Run), "1 partition", strconv.Itoa(r.Partitions.Run)+" partitions") + " of " + r.Parent
			if notes := partitionNotes(r.Partitions); notes != "" {
				text += " (" + notes + ")"
			}
			lines = append(lines, hang(strings.Repeat(" ", indent), text, indent, cols)...)
		}
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}
}

// streamDone says in words what a stream did: records, pages, retries
// and its time, and why it stopped when it stopped early.
func streamDone(r connector.StreamResult) string {
	parts := []string{
		plural(r.Items, "1 record", strconv.FormatInt(r.Items, 10)+" records"),
		plural(int64(r.Pages), "1 page", strconv.Itoa(r.Pages)+" pages"),
	}
	if r.Retries > 0 {
		parts = append(parts, retries(r.Retries))
	}
	parts = append(parts, r.Duration.Round(time.Millisecond).String())
	s := strings.Join(parts, ", ")
	if r.Status() == "stopped early" {
		s += " (stop: " + r.Stop.String() + ")"
	}
	return s
}

// partitions is the partitions cell of a stream's row.
func partitions(r connector.StreamResult) string {
	if r.Parent == "" {
		return ""
	}
	s := strconv.Itoa(r.Partitions.Run)
	if notes := partitionNotes(r.Partitions); notes != "" {
		s += " (" + notes + ")"
	}
	return s
}

// partitionNotes says how many partitions failed, were interrupted or
// were retried, or "" when none.
func partitionNotes(p connector.Partitions) string {
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
	return strings.Join(notes, ", ")
}

// connectorNotes says in words what the table does not: the streams whose
// data moved during the run, and each warning once, with the streams that
// gave it.
func connectorNotes(res connector.Result) []string {
	var notes, drifted []string
	for _, r := range res.Streams {
		if r.Drifts > 0 {
			drifted = append(drifted, fmt.Sprintf("%s: %s", r.Stream, plural(int64(r.Drifts), "1 sign", strconv.Itoa(r.Drifts)+" signs")))
		}
	}
	if len(drifted) > 0 {
		notes = append(notes, "drift: the data changed during the sync ("+strings.Join(drifted, ", ")+
			"); the next run of each reads again from the same mark, so nothing shifted past a page is lost")
	}
	var warnings []string
	by := map[string][]string{}
	for _, r := range res.Streams {
		for _, text := range r.Warnings {
			if by[text] == nil {
				warnings = append(warnings, text)
			}
			by[text] = append(by[text], r.Stream)
		}
	}
	for _, text := range warnings {
		notes = append(notes, "warning ("+strings.Join(by[text], ", ")+"): "+text)
	}
	return notes
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
