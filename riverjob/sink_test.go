package riverjob_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/connector"
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
	opts := paginate.Options[row]{Stream: "rows", Limits: paginate.Limits{MaxPages: 1}}
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

// TestCompletingKeepsTheKeys checks that a sink wrapped in Completing is
// still what the runner asks of it to detect drift across a resume: the
// records' key (paginate.Keyer) and a keeper of the keys of a sync in
// progress (paginate.KeyStore). A sync by position stopped after a page
// and resumed must then see no drift on a quiet source, and a record that
// comes again on the resumed run must be seen as a duplicate.
func TestCompletingKeepsTheKeys(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := sqlite.New(ctx, db, schema.Must(schema.Derive[row]("rows", "id")), sqlite.Config[row]{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sink := riverjob.Completing[row, *sql.Tx](s)
	if _, ok := sink.(paginate.Keyer[row]); !ok {
		t.Error("Completing hides the sink's Key")
	}
	if _, ok := sink.(paginate.KeyStore); !ok {
		t.Error("Completing hides the sink's KeyStore")
	}
	if _, ok := sink.(connector.Tabler); !ok {
		t.Error("Completing hides the sink's Table")
	}
	for _, tc := range []struct {
		name  string
		p     paginate.Paginator[row]
		drift []paginate.DriftKind
	}{
		{"quiet", rows{pages: 3}, nil},
		{"a record comes again", shifted{rows{pages: 3}}, []paginate.DriftKind{paginate.DriftDuplicate}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := paginate.Options[row]{Stream: tc.name, Checks: paginate.Checks[row]{TrackKeys: true}, Limits: paginate.Limits{MaxPages: 1}}
			if _, err := paginate.Run(ctx, tc.p, sink, opts); err != nil {
				t.Fatal(err)
			}
			opts.Limits.MaxPages = 0
			res, err := paginate.Run(ctx, tc.p, sink, opts)
			if err != nil || !res.Resumed {
				t.Fatalf("resumed run: %v, resumed %v", err, res.Resumed)
			}
			var got []paginate.DriftKind
			for _, d := range res.Drifts {
				got = append(got, d.Kind)
			}
			if diff := cmp.Diff(tc.drift, got); diff != "" {
				t.Errorf("drift of the resumed run (-want +got):\n%s", diff)
			}
		})
	}
}

// shifted is rows whose page 2 starts with the last row of page 1, as
// when a record moves from behind the position to after it.
type shifted struct{ rows }

func (s shifted) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[row], error) {
	page, err := s.rows.Fetch(ctx, pos)
	if pos.Page == 2 {
		page.Items[0].ID = "2"
	}
	return page, err
}
