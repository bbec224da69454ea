package postgres_test

import (
	"context"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/postgres"
)

// TestBuffersShrinkAfterAHugePage: the values and encoded rows a sink
// made for one huge page are not kept for the sink's life.
func TestBuffersShrinkAfterAHugePage(t *testing.T) {
	ctx := context.Background()
	pool, nsp := testDB(t)
	s := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
	huge := usertest.Generate(40_000, 1) // 320,000 values, about 12 MB of COPY data
	if err := s.Commit(ctx, huge, paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}); err != nil {
		t.Fatal(err)
	}
	if vals, bytes := postgres.Retained(s); vals > 1<<16 || bytes > 8<<20 {
		t.Errorf("after a page of 40,000 records the sink keeps room for %d values and %d bytes", vals, bytes)
	}
	if err := s.Commit(ctx, usertest.Generate(50, 3), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}); err != nil {
		t.Fatal(err)
	}
	if vals, _ := postgres.Retained(s); vals == 0 {
		t.Errorf("an ordinary page's buffer is not kept for the next one")
	}
}
