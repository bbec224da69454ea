package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagekit/pagekit/paginate"
)

// Summary prints what a run did, from its Result and error: whether it
// completed, was interrupted, stopped early or failed; records written,
// pages, retries and duration; why it stopped; the server's total; whether
// it resumed a crashed run, or started over because its settings changed;
// drift; what the run could not protect against a source that changes
// (Result.Warnings); the high-water mark; and where the next run starts.
// On a terminal, long values are wrapped to its width. What went wrong is
// for [Report] to say, once, at the end. For example:
//
//	Sync of "user" complete.
//	  records written  200
//	  pages            4
//	  retries          0
//	  duration         41ms
//	  stop reason      total reached
//	  server total     200 records
//	  drift            none
//	  high-water mark  2024-12-30T17:08:53Z
//	  next run         incremental, from 2024-12-30T17:08:53Z
func Summary(w io.Writer, res paginate.Result, err error) {
	summary(w, terminalWidth(w), res, err)
}

// summary is Summary for a terminal of width columns, or for none when
// width is 0.
func summary(w io.Writer, width int, res paginate.Result, err error) {
	printWrapped(w, width, fmt.Sprintf("Sync of %q %s.", res.Stream, status(res, err)))
	var rows [][2]string
	row := func(k, format string, a ...any) { rows = append(rows, [2]string{k, fmt.Sprintf(format, a...)}) }
	row("records written", "%d", res.Items)
	row("pages", "%d", res.Pages)
	row("retries", "%d", res.Retries)
	row("duration", "%v", res.Duration.Round(100*time.Microsecond))
	row("stop reason", "%v", res.Stop)
	if res.TotalItems > 0 {
		row("server total", "%d %s", res.TotalItems, plural(res.TotalItems, "record", "records"))
	}
	if mm := res.Restarted; mm != nil {
		changes := make([]string, len(mm.Changes))
		for i, c := range mm.Changes {
			changes[i] = c.String()
		}
		row("restarted", "the settings changed since the checkpoint (%s):", strings.Join(changes, "; "))
		if slices.ContainsFunc(mm.Changes, func(c paginate.Change) bool { return !c.PositionOnly() }) {
			row("", "started over from the start, since what the stream reads or where it goes changed")
		} else {
			row("", "started over from the last completed sync")
		}
	}
	if fe := res.Expired; fe != nil {
		row("restarted", "the API no longer knew the sync's place (%v expired):", fe.Position)
		row("", "started over from the last completed sync")
	}
	if res.Resumed {
		row("resumed", "yes, from a checkpoint left by an interrupted run")
	}
	if res.DriftCount == 0 {
		row("drift", "none")
	} else {
		d := res.Drifts[0]
		row("drift", "%d signs the data changed during the sync (first: %v key %s on %v);", res.DriftCount, d.Kind, d.Key, d.Position)
		row("", "the next run reads again from the same mark, so nothing shifted past a page is lost")
	}
	for _, text := range res.Warnings {
		row("warning", "%s", text)
	}
	cp := res.Checkpoint
	if cp.HighWater != "" {
		row("high-water mark", "%s", cp.HighWater)
	}
	switch {
	case !cp.Position.IsStart():
		row("next run", "resumes at %v", cp.Position)
	case cp.Position.Since != "":
		row("next run", "incremental, from %s", cp.Position.Since)
	default:
		row("next run", "full sync")
	}
	printRows(w, width, rows)
}

// printRows prints rows of a key and a value, the values in a column;
// on a terminal of width columns a long value is wrapped under itself.
func printRows(w io.Writer, width int, rows [][2]string) {
	keyW := 0
	for _, r := range rows {
		keyW = max(keyW, utf8.RuneCountInString(r[0]))
	}
	indent := 2 + keyW + 2
	for _, r := range rows {
		head := "  " + pad(r[0], keyW) + "  "
		if width == 0 {
			fmt.Fprintln(w, head+r[1])
			continue
		}
		for _, l := range hang(head, r[1], indent, max(width-1, 20)) {
			fmt.Fprintln(w, l)
		}
	}
}

// status says in a word or two how the run went.
func status(res paginate.Result, err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case res.Stop == paginate.StopCancelled || errors.Is(err, context.Canceled):
		return "interrupted"
	case err != nil:
		return "failed"
	case !res.Stop.Complete():
		return "stopped early"
	}
	return "complete"
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ExitCode returns the exit status for a run's error: 0 when it is nil,
// 130 when the run was interrupted (context.Canceled, as by Ctrl-C, the
// status a shell reports for SIGINT), 1 otherwise, a deadline included. A run that stopped at
// a limit (Options.Limits.MaxPages) returns a nil error, and so 0.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}
