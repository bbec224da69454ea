package console

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
	p := NewProgress(&b, "user", false)
	p.bar = true // as on a terminal
	p.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Position: paginate.Position{Page: 3, Offset: 100}, Items: 50, ItemsDone: 50, Pages: 1, TotalItems: 200})
	p.Observe(paginate.Event{Kind: paginate.EventRetry})
	p.Logger.Warn("a retry")
	p.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Position: paginate.Position{Page: 4, Offset: 150}, Items: 50, ItemsDone: 100, Pages: 2, TotalItems: 200})
	p.Observe(paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{Items: 100, Pages: 2}})
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

// TestBarNoTotal: without a server total the bar counts records only.
func TestBarNoTotal(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, "events", false)
	p.bar = true
	for i := range 3 {
		p.Observe(paginate.Event{Kind: paginate.EventRetry})
		p.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Items: 10, ItemsDone: int64(10 * (i + 1)), Pages: i + 1})
	}
	p.Observe(paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{Items: 30, Pages: 3}})
	if out := b.String(); !strings.Contains(out, "events 30 records, 3 pages, 3 retries") || strings.Contains(out, "%") {
		t.Errorf("want a count without a percentage:\n%q", out)
	}
}

func TestLines(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var b bytes.Buffer
		p := NewProgress(&b, "user", verbose)
		p.Observe(paginate.Event{Kind: paginate.EventPageFetched, Position: paginate.Position{Page: 2}, Items: 50})
		p.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Items: 50, ItemsDone: 50, Pages: 1, TotalItems: 200})
		p.Logger.InfoContext(context.Background(), "paginate: page committed")
		out := b.String()
		if strings.Contains(out, "[") || !strings.Contains(out, `msg="paginate: page committed"`) {
			t.Errorf("verbose %v: want log lines and no bar:\n%s", verbose, out)
		}
		if got := strings.Contains(out, `msg="page fetched"`); got != verbose {
			t.Errorf("verbose %v: fetched pages logged: %v\n%s", verbose, got, out)
		}
	}
}

// TestRun drives a Progress from a real run, concurrently fetching pages,
// under -race: events and log lines arrive from the runner's goroutines.
func TestRun(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, "numbers", true)
	api := paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
		items := make([]int, 10)
		for i := range items {
			items[i] = int(pos.Offset) + i
		}
		next := pos.Offset + 10
		return paginate.Page[int]{Items: items, More: next < 50, Next: paginate.Position{Offset: next}, TotalItems: 50}, nil
	})
	res, err := paginate.Run(context.Background(), api, new(paginate.MemorySink[int]), paginate.Options[int]{
		Stream: "numbers", Logger: p.Logger, Observe: p.Observe,
	})
	if err != nil || res.Items != 50 {
		t.Fatalf("run: %d items, %v", res.Items, err)
	}
	out := b.String()
	if n := strings.Count(out, `msg="page fetched"`); n != 5 {
		t.Errorf("%d pages fetched logged, want 5:\n%s", n, out)
	}
	if !strings.Contains(out, `msg="paginate: run done"`) {
		t.Errorf("the run's end is not logged:\n%s", out)
	}
}
