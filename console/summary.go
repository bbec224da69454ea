package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pagekit/pagekit/paginate"
)

// Summary prints what a run did, from its Result and error: whether it
// completed, was interrupted, stopped early or failed; records written,
// pages, retries and duration; why it stopped; the server's total; whether
// it resumed a crashed run, or started over because its settings changed;
// drift; the high-water mark; and where the next run starts. What went
// wrong is for [Report] to say, once, at the end. For example:
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
	fmt.Fprintf(w, "Sync of %q %s.\n", res.Stream, status(res, err))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...) }
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
		row("", "started over from the last completed sync")
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
	tw.Flush()
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
// a limit (Options.MaxPages) returns a nil error, and so 0.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}
