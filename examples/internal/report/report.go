// Package report prints the end of an example sync: what the run did, and
// the first rows of the table it filled, as a connector SDK's debug run
// prints its resulting table.
package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/pagekit/pagekit/paginate"
)

// Summary prints what res says about a run: records upserted, pages,
// retries, duration, why it stopped, drift, and where the next run starts.
// err is the run's error, if any.
func Summary(w io.Writer, res paginate.Result, err error) {
	status := "complete"
	switch {
	case res.Stop == paginate.StopCancelled:
		status = "interrupted"
	case err != nil:
		status = "failed"
	case !res.Stop.Complete():
		status = "stopped early"
	}
	fmt.Fprintf(w, "Sync of %q %s.\n", res.Stream, status)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...) }
	row("records upserted", "%d", res.Items)
	row("pages", "%d", res.Pages)
	row("retries", "%d", res.Retries)
	row("duration", "%v", res.Duration.Round(100*time.Microsecond))
	row("stop reason", "%v", res.Stop)
	if res.TotalItems > 0 {
		row("server total", "%d %s", res.TotalItems, plural(res.TotalItems, "record", "records"))
	}
	if res.Resumed {
		row("resumed", "yes, from a checkpoint left by an interrupted run")
	}
	switch {
	case res.DriftCount == 0:
		row("drift", "none")
	default:
		d := res.Drifts[0]
		row("drift", "%d signs the data changed during the sync (first: %v key %s on %v);", res.DriftCount, d.Kind, d.Key, d.Position)
		row("", "the next run reads again from the same mark, so nothing shifted past a page is lost")
	}
	cp := res.Checkpoint
	if cp.HighWater != "" {
		row("high-water mark", "%s", cp.HighWater)
	}
	switch {
	case !cp.Position.IsStart():
		row("next run", "resumes at %v", cp.Position)
	case cp.Position.Since != "":
		row("next run", "incremental: records updated at or after %s", cp.Position.Since)
	default:
		row("next run", "full sync")
	}
	if err != nil {
		row("error", "%v", err)
	}
	tw.Flush()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Table runs query on db and prints the rows it returns as a table under
// title. Long values are cut short and newlines shown as " / ", so that
// each row stays on one line.
func Table(ctx context.Context, w io.Writer, db *sql.DB, title, query string, args ...any) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	cells := [][]string{cols}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		line := make([]string, len(cols))
		for i, v := range vals {
			line[i] = cell(v)
		}
		cells = append(cells, line)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(w, "\n%s\n", title)
	printGrid(w, cells)
	return nil
}

// maxCell is the widest a cell is printed.
const maxCell = 36

func cell(v sql.NullString) string {
	if !v.Valid {
		return "NULL"
	}
	s := strings.ReplaceAll(v.String, "\n", " / ")
	if utf8.RuneCountInString(s) > maxCell {
		r := []rune(s)
		s = string(r[:maxCell-1]) + "…"
	}
	return s
}

// printGrid prints cells, the first row being the header, in a box.
func printGrid(w io.Writer, cells [][]string) {
	widths := make([]int, len(cells[0]))
	for _, line := range cells {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	rule := func() {
		var b strings.Builder
		for _, n := range widths {
			b.WriteString("+" + strings.Repeat("-", n+2))
		}
		fmt.Fprintln(w, b.String()+"+")
	}
	rule()
	for i, line := range cells {
		var b strings.Builder
		for j, c := range line {
			b.WriteString("| " + c + strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)) + " ")
		}
		fmt.Fprintln(w, b.String()+"|")
		if i == 0 {
			rule()
		}
	}
	rule()
}

// ExitCode returns the exit status for a run's outcome: 0 when it succeeded,
// 130 when it was interrupted (as a shell reports SIGINT), 1 otherwise.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}
