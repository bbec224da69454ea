package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// Report prints the one message a command-line sync ends with, on w (its
// stderr), and returns the exit status for os.Exit ([ExitCode]). A nil
// error prints nothing. An interrupt (Ctrl-C, SIGTERM: context.Canceled)
// is not an error: it says that what was committed is kept and that the
// same command resumes. Any other error is printed once, as "error: "
// and its text, followed by what to do next in the words of the shared
// flags ([Flags]): -restart after a checkpoint saved by other settings,
// -timeout after requests that kept timing out, and so on. The errors
// joined in a connector's error are each printed on a line of their own,
// and the advice once. On a terminal the lines are wrapped to its width.
//
// Progress and Summary leave the error to Report, so that it is said
// once, at the end:
//
//	res, err := paginate.Run(ctx, api, sink, opts)
//	console.Summary(os.Stdout, res, err)
//	os.Exit(console.Report(os.Stderr, "users", err))
func Report(w io.Writer, name string, err error) int {
	width := 0
	if IsTerminal(w) {
		width = Width(w)
	}
	return report(w, width, name, err)
}

// report is Report for a terminal of width columns, or for none when
// width is 0.
func report(w io.Writer, width int, name string, err error) int {
	if err == nil {
		return 0
	}
	text := name + ": " + Message(err)
	if width > 0 {
		text = strings.Join(wrap(text, max(width-1, 20)), "\n")
	}
	fmt.Fprintln(w, text)
	return ExitCode(err)
}

// Message returns the text [Report] prints after the command's name: what
// went wrong, then what to do next, on lines of their own.
func Message(err error) string {
	errs := split(err)
	var failed []error
	for _, e := range errs {
		if !errors.Is(e, context.Canceled) {
			failed = append(failed, e)
		}
	}
	if len(failed) == 0 {
		return "interrupted. What was committed is kept: run the same command again to resume where it stopped."
	}
	var b strings.Builder
	var advice []string
	for i, e := range failed {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("error: ")
		b.WriteString(describe(e))
		if a := Advice(e); a != "" && !contains(advice, a) {
			advice = append(advice, a)
		}
	}
	for _, a := range advice {
		b.WriteString("\n")
		b.WriteString(a)
	}
	return b.String()
}

// split returns the errors a connector joined (one per stream), or err
// alone.
func split(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := j.Unwrap(); len(errs) > 0 {
			return errs
		}
	}
	return []error{err}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describe returns an error's text, but for a checkpoint saved by other
// settings, whose own text gives advice to the Go programmer (set
// Options.Restart): there it names the stream and what changed.
func describe(err error) string {
	var mm *paginate.MismatchError
	if !errors.As(err, &mm) {
		return err.Error()
	}
	changes := make([]string, len(mm.Changes))
	for i, c := range mm.Changes {
		changes[i] = c.String()
	}
	at := ""
	if !mm.Position.IsStart() {
		at = fmt.Sprintf(" (at %s)", shortPosition(mm.Position))
	}
	return fmt.Sprintf("the checkpoint of stream %q%s was saved with other settings: %s", mm.Stream, at, strings.Join(changes, "; "))
}

// Advice returns what a person at the command line can do about err, in
// the words of the shared flags ([Flags]), or "" when there is nothing
// more to say than the error.
func Advice(err error) string {
	var herr *strategies.HTTPError
	var fe *paginate.FetchError
	switch {
	case errors.Is(err, paginate.ErrPositionExpired):
		return "The API let the sync's place in the data expire, again after a restart. What was committed is kept, " +
			"and the next run starts the sync over from its last completed mark."
	case errors.Is(err, paginate.ErrCheckpointMismatch):
		from := "from its last completed sync"
		if mm := (*paginate.MismatchError)(nil); errors.As(err, &mm) &&
			slices.ContainsFunc(mm.Changes, func(c paginate.Change) bool { return !c.PositionOnly() }) {
			from = "from the start, since what it reads or where it goes changed"
		}
		return "To resume it, run with the settings it was saved with; to start it over " + from +
			" (the rows already synced stay), run again with -restart; to sync everything again, with -reset."
	case errors.Is(err, context.DeadlineExceeded):
		return "What was committed is kept: run the same command again to resume where it stopped."
	case errors.As(err, &herr) && (herr.StatusCode == http.StatusUnauthorized || herr.StatusCode == http.StatusForbidden):
		return "The API refused the credentials: check them, then run the same command again."
	case errors.Is(err, strategies.ErrTimeout):
		return "The server kept not answering in time. What was committed is kept: run the same command again to resume, " +
			"with a longer -timeout if the server is slow."
	case errors.Is(err, paginate.ErrRetriesExhausted):
		return "The server kept failing. What was committed is kept: run the same command again later to resume where it stopped."
	case errors.As(err, &herr) && herr.StatusCode >= 400 && herr.StatusCode < 500:
		return "The API refused the request: check -url and the paginator's settings."
	case errors.As(err, &fe):
		return "What was committed is kept: run the same command again to resume where it stopped."
	}
	return ""
}
