package sqlite_test

import (
	"context"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// TestBuffersShrinkAfterAHugePage: the values a sink extracted for one
// huge page, committed or refused, are not kept for the sink's life.
func TestBuffersShrinkAfterAHugePage(t *testing.T) {
	ctx := context.Background()
	s := newSink(t, openDB(t), usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	huge := usertest.Generate(20_000, 1) // 160,000 values
	if err := s.Commit(ctx, huge, paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}); err != nil {
		t.Fatal(err)
	}
	if n := sqlite.Retained(s); n > 1<<16 {
		t.Errorf("after a page of 20,000 records the sink keeps room for %d values", n)
	}
	bad := usertest.Generate(20_000, 2)
	bad[len(bad)-1].ID = "" // refused, after every other record was extracted
	if err := s.Commit(ctx, bad, paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}); err == nil {
		t.Fatal("a page with a record without key was committed")
	}
	if n := sqlite.Retained(s); n > 1<<16 {
		t.Errorf("after a refused page of 20,000 records the sink keeps room for %d values", n)
	}
	if err := s.Commit(ctx, usertest.Generate(50, 3), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}); err != nil {
		t.Fatal(err)
	}
	if n := sqlite.Retained(s); n == 0 {
		t.Errorf("an ordinary page's buffer is not kept for the next one")
	}
}
