package jsonl_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/jsonl"
)

// Event is a record of the examples' paginator.
type Event struct {
	ID int `json:"id"`
}

// events is a paginator over events 1..n, two a page.
func events(n int) paginate.Paginator[Event] {
	return paginate.PaginatorFunc[Event](func(ctx context.Context, pos paginate.Position) (paginate.Page[Event], error) {
		var items []Event
		for i := pos.Offset; i < min(pos.Offset+2, int64(n)); i++ {
			items = append(items, Event{int(i) + 1})
		}
		next := pos.Offset + int64(len(items))
		return paginate.Page[Event]{Items: items, More: next < int64(n), Next: paginate.Position{Offset: next}}, nil
	})
}

// A sync into a JSON Lines file that is its own checkpoint store: each page
// is appended and its checkpoint saved in one step, so a run cut short
// (here after two pages) and run again leaves every record in the file
// exactly once.
func Example() {
	dir, _ := os.MkdirTemp("", "jsonl")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.jsonl")
	ctx := context.Background()

	for _, maxPages := range []int{2, 0} {
		f, err := jsonl.Open[Event](path, jsonl.Config{})
		if err != nil {
			fmt.Println(err)
			return
		}
		res, err := paginate.Run(ctx, events(5), f, paginate.Options[Event]{Stream: "events", Limits: paginate.Limits{MaxPages: maxPages}})
		f.Close()
		fmt.Println(res.Stop, res.Items, "events", err)
	}
	all, err := jsonl.ReadFile[Event](path)
	fmt.Println(all, err)
	// Output:
	// max pages 4 events <nil>
	// last page 1 events <nil>
	// [{1} {2} {3} {4} {5}] <nil>
}

// A FileStore keeps the checkpoints of any sink, here a Writer on standard
// output, one JSON file a stream.
func ExampleFileStore() {
	dir, _ := os.MkdirTemp("", "state")
	defer os.RemoveAll(dir)
	store := &jsonl.FileStore{Dir: dir}
	out := jsonl.New[Event](os.Stdout, jsonl.Config{})
	opts := paginate.Options[Event]{Stream: "events", Store: store, Limits: paginate.Limits{MaxPages: 1}}

	ctx := context.Background()
	paginate.Run(ctx, events(3), out, opts)
	cp, _, _ := store.Load(ctx, "events")
	fmt.Println("checkpoint in", filepath.Base(store.Path("events")), "at", cp.Position)

	opts.Limits.MaxPages = 0
	paginate.Run(ctx, events(3), out, opts)
	// Output:
	// {"id":1}
	// {"id":2}
	// checkpoint in events.json at offset 2
	// {"id":3}
}
