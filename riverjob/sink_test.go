package riverjob_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
)

type row struct {
	ID string `json:"id"`
}

// rows is a paginator of pages of two rows, numbered from 1.
type rows struct{ pages int }

func (r rows) Fetch(_ context.Context, pos paginate.Position) (paginate.Page[row], error) {
	n := max(pos.Page, 1)
	page := paginate.Page[row]{Items: []row{{ID: strconv.FormatInt(2*n-1, 10)}, {ID: strconv.FormatInt(2*n, 10)}}}
	if int(n) < r.pages {
		page.More, page.Next = true, paginate.Position{Page: n + 1}
	}
	return page, nil
}

// TestCompletingKeepsTheIdentity checks that a sink wrapped in Completing
// still names its table in the checkpoints, so that a stream moved to
// another table of the same database is refused rather than resumed
// there past records the new table never got.
func TestCompletingKeepsTheIdentity(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sink := func(table string) *sqlite.Sink[row] {
		s, err := sqlite.New(ctx, db, schema.Must(schema.Derive[row](table, "id")), sqlite.Config[row]{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	opts := paginate.Options[row]{Stream: "rows", MaxPages: 1}
	a := sink("rows_a")
	res, err := paginate.Run(ctx, paginate.Paginator[row](rows{pages: 3}), riverjob.Completing[row, *sql.Tx](a), opts)
	if err != nil || res.Stop != paginate.StopMaxPages {
		t.Fatalf("first run: %v, stop %v", err, res.Stop)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	res, err = paginate.Run(ctx, paginate.Paginator[row](rows{pages: 3}), riverjob.Completing[row, *sql.Tx](sink("rows_b")), opts)
	if !errors.Is(err, paginate.ErrCheckpointMismatch) {
		t.Fatalf("run into another table resumed at %v with %d items (err %v), want ErrCheckpointMismatch",
			res.Checkpoint.Position, res.Items, err)
	}
}
