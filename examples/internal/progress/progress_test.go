package progress

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}

// TestBar drives a bar through a resumed run: it starts at the records
// before the checkpoint, counts retries, prints log lines above itself and
// ends on its own line.
func TestBar(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, "user", false)
	r.bar = true // as on a terminal
	r.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Position: paginate.Position{Page: 3, Offset: 100}, Items: 50, ItemsDone: 50, Pages: 1, TotalItems: 200})
	r.Observe(paginate.Event{Kind: paginate.EventRetry})
	r.Logger.Warn("a retry")
	r.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Position: paginate.Position{Page: 4, Offset: 150}, Items: 50, ItemsDone: 100, Pages: 2, TotalItems: 200})
	r.Observe(paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{Items: 100, Pages: 2}})
	out := b.String()
	for _, want := range []string{"user [######################........]  75% 150/200 records, 1 pages", "msg=\"a retry\"",
		"user [##############################] 100% 200/200 records, 2 pages, 1 retry"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("the bar does not end its line:\n%q", out)
	}
	if !strings.Contains(out, "\r\x1b[Ktime=") {
		t.Errorf("the log line does not clear the bar first:\n%q", out)
	}
}

func TestLines(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var b bytes.Buffer
		r := New(&b, "user", verbose)
		r.Observe(paginate.Event{Kind: paginate.EventPageFetched, Position: paginate.Position{Page: 2}, Items: 50})
		r.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Items: 50, ItemsDone: 50, Pages: 1, TotalItems: 200})
		r.Logger.InfoContext(context.Background(), "paginate: page committed")
		out := b.String()
		if strings.Contains(out, "[") || !strings.Contains(out, `msg="paginate: page committed"`) {
			t.Errorf("verbose %v: want log lines and no bar:\n%s", verbose, out)
		}
		if got := strings.Contains(out, `msg="page fetched"`); got != verbose {
			t.Errorf("verbose %v: fetched pages logged: %v\n%s", verbose, got, out)
		}
	}
}
