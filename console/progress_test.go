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
