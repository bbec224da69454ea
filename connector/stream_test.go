package connector_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
)

// invalid is a paginator whose configuration is wrong.
type invalid struct{ fetches *atomic.Int64 }

func (p invalid) Validate() error { return errors.New("no URL") }

func (p invalid) Fetch(context.Context, paginate.Position) (paginate.Page[parent], error) {
	p.fetches.Add(1)
	return paginate.Page[parent]{Items: []parent{{ID: "a"}}}, nil
}

// A stream's paginator is validated before its checkpoint and its first
// request, as paginate.Run does, through the connector's budget too.
func TestPaginatorValidatedThroughTheBudget(t *testing.T) {
	var fetches atomic.Int64
	s := connector.NewStream("s", paginate.Paginator[parent](invalid{&fetches}), newTable[parent]("s", "id"), paginate.Options[parent]{})
	c, err := connector.New(connector.Config{}, s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "invalid paginator: no URL") {
		t.Errorf("Run: %v, want the paginator's validation error", err)
	}
	if n := fetches.Load(); n != 0 || res.Streams[0].Stop != paginate.StopError {
		t.Errorf("%d fetches, stop %v; want none, and StopError", n, res.Streams[0].Stop)
	}
}
