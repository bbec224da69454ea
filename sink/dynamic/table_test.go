package dynamic_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/dynamic"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// sqliteDest opens tables in one SQLite database, counting the opens.
type sqliteDest struct {
	path  string
	opens int
}

func (d *sqliteDest) Open(ctx context.Context, m *schema.Mapping[schema.Record]) (dynamic.Sink, error) {
	db, err := sqlite.Open(d.path)
	if err != nil {
		return nil, err
	}
	s, err := sqlite.New(ctx, db, m, sqlite.Config[schema.Record]{})
	if err != nil {
		db.Close()
		return nil, err
	}
	d.opens++
	return closer{s, db.Close}, nil
}

type closer struct {
	*sqlite.Sink[schema.Record]
	closeDB func() error
}

func (c closer) Close() error { return errors.Join(c.Sink.Close(), c.closeDB()) }

func page(t *testing.T, s string) []schema.Record {
	t.Helper()
	var out []schema.Record
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGrow syncs pages whose fields change into SQLite: a new field adds a
// column (the sink opened again), keys saved before a growing commit are
// kept, a resumed run finds them, and a value that no longer fits fails
// its page with the record and the field, writing nothing of it.
func TestGrow(t *testing.T) {
	ctx := context.Background()
	dest := &sqliteDest{path: filepath.Join(t.TempDir(), "grow.db")}
	tbl, err := dynamic.New(dest, schema.Table{Name: "items", PrimaryKey: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	s, err := tbl.Sink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ks, ok := s.(paginate.KeyStore)
	if !ok {
		t.Fatalf("the table of an SQLite sink is a %T, not a paginate.KeyStore", s)
	}
	commit := func(items []schema.Record, n int64, keys ...uint64) error {
		if len(keys) > 0 {
			if err := ks.SaveKeys(ctx, "items", n, keys); err != nil {
				return err
			}
		}
		return s.Commit(ctx, items, paginate.Checkpoint{Stream: "items", Position: paginate.Position{Page: n}, Items: n})
	}
	if err := commit(page(t, `[{"id":"a","n":1},{"id":"b","n":2}]`), 2, 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := commit(page(t, `[{"id":"c","n":3,"tags":["x"],"at":"2024-01-02T03:04:05Z"}]`), 3, 3); err != nil {
		t.Fatal(err)
	}
	want := []schema.Column{{Name: "id", Type: schema.String}, {Name: "n", Type: schema.Long}, {Name: "tags", Type: schema.JSON}, {Name: "at", Type: schema.UTCDatetime}}
	if diff := cmp.Diff(want, tbl.Table().Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
	if dest.opens != 3 {
		t.Errorf("the sink was opened %d times, want 3: at first use, then for each page that brought fields", dest.opens)
	}
	keys, err := ks.LoadKeys(ctx, "items", 3)
	if err != nil || len(keys) != 3 {
		t.Errorf("LoadKeys = %v, %v; want the 3 keys saved, across the sinks opened again", keys, err)
	}
	err = commit(page(t, `[{"id":"d","n":4},{"id":"e","n":4.5}]`), 5)
	var re *schema.RecordError
	if !errors.As(err, &re) || re.Key != `id="e"` || re.Column != "n" || !strings.Contains(err.Error(), "4.5 is not an integer") {
		t.Errorf("a value that does not fit: %v", err)
	}
	cp, _, err := s.Load(ctx, "items")
	if err != nil || cp.Items != 3 {
		t.Errorf("checkpoint %+v, %v: want the one of the last page committed", cp, err)
	}

	// The next process: the table as the destination has it, a new
	// Table, the same columns.
	tbl2, err := dynamic.New(dest, schema.Table{Name: "items", PrimaryKey: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	tbl.Close()
	defer tbl2.Close()
	s2, err := tbl2.Sink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Commit(ctx, page(t, `[{"id":"f","n":6,"at":"2024-01-03T00:00:00Z","extra":true}]`), paginate.Checkpoint{Stream: "items"}); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(dest.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, withAt int
	if err := db.QueryRow(`SELECT count(*), count("at") FROM items WHERE "extra" IS NULL OR "extra" = 1`).Scan(&n, &withAt); err != nil {
		t.Fatal(err)
	}
	if n != 4 || withAt != 2 {
		t.Errorf("%d rows, %d with at; want 4 and 2", n, withAt)
	}
}

// TestGrowExistingTable commits, in a new process's first commit, a page
// whose field n holds an integer and then a fraction, into a table whose
// column n is an INTEGER from an earlier sync. Taken together the page's
// values would type n as DOUBLE, which the existing column refuses; the
// column keeps its type, and the record whose value does not fit is
// named, whether the commit holds one page or several (a group commit).
func TestGrowExistingTable(t *testing.T) {
	ctx := context.Background()
	dest := &sqliteDest{path: filepath.Join(t.TempDir(), "grow.db")}
	first, err := dynamic.New(dest, schema.Table{Name: "items", PrimaryKey: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Commit(ctx, page(t, `[{"id":"a","n":1,"name":"x"}]`), paginate.Checkpoint{Stream: "items"}); err != nil {
		t.Fatal(err)
	}
	first.Close()

	next, err := dynamic.New(dest, schema.Table{Name: "items", PrimaryKey: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	s, err := next.Sink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Commit(ctx, page(t, `[{"id":"b","n":2,"name":"y","new":true},{"id":"c","n":2.5,"name":"z"}]`), paginate.Checkpoint{Stream: "items", Items: 2})
	var re *schema.RecordError
	if !errors.As(err, &re) || re.Key != `id="c"` || re.Column != "n" || !strings.Contains(err.Error(), "2.5 is not an integer") {
		t.Fatalf("a value that does not fit the existing column: %v; want a *schema.RecordError naming id=\"c\" and n", err)
	}
	if err := s.Commit(ctx, page(t, `[{"id":"b","n":2,"name":"y","new":true},{"id":"c","n":3,"name":"z"}]`), paginate.Checkpoint{Stream: "items", Items: 2}); err != nil {
		t.Fatalf("a page that fits after the refused one: %v", err)
	}
	want := []schema.Column{{Name: "id", Type: schema.String}, {Name: "n", Type: schema.Long}, {Name: "name", Type: schema.String}, {Name: "new", Type: schema.Boolean}}
	if diff := cmp.Diff(want, next.Table().Columns); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}
