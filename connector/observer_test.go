package connector_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
)

// observed is a destination that is a StreamObserver: it notes its
// stream's events, and how many pages were committed before each.
type observed struct {
	*paginate.MemorySink[int]
	mu     sync.Mutex
	events []string
}

func (o *observed) Commit(ctx context.Context, items []int, cp paginate.Checkpoint) error {
	o.mu.Lock()
	o.events = append(o.events, "commit")
	o.mu.Unlock()
	return o.MemorySink.Commit(ctx, items, cp)
}

func (o *observed) ObserveStream(e connector.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := e.Stream + " " + e.Kind.String()
	if e.Result != nil && e.Result.Err != nil {
		s += " failed"
	}
	o.events = append(o.events, s)
}

// TestStreamObserver checks that a destination that is a StreamObserver
// is told when its stream starts, before its first commit, and when it
// ends, after its last, and only of its own stream.
func TestStreamObserver(t *testing.T) {
	twoPages := paginate.PaginatorFunc[int](func(_ context.Context, pos paginate.Position) (paginate.Page[int], error) {
		return paginate.Page[int]{Items: []int{int(pos.Page)}, More: pos.Page == 0, Next: paginate.Position{Page: 1}}, nil
	})
	failing := paginate.PaginatorFunc[int](func(context.Context, paginate.Position) (paginate.Page[int], error) {
		return paginate.Page[int]{}, paginate.Permanent(errors.New("refused"))
	})
	a, b := &observed{MemorySink: &paginate.MemorySink[int]{}}, &observed{MemorySink: &paginate.MemorySink[int]{}}
	c, err := connector.New(connector.Config{},
		connector.NewStream("a", twoPages, a, paginate.Options[int]{Group: paginate.Group{Pages: 1}}),
		connector.NewStream("b", failing, b, paginate.Options[int]{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(t.Context()); err == nil {
		t.Fatal("Run: no error from the failing stream")
	}
	if diff := gocmp.Diff([]string{"a stream started", "commit", "commit", "a stream done"}, a.events); diff != "" {
		t.Errorf("a's events (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff([]string{"b stream started", "b stream done failed"}, b.events); diff != "" {
		t.Errorf("b's events (-want +got):\n%s", diff)
	}
}
