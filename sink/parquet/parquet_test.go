package parquet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/parquet"
	"github.com/pagekit/pagekit/sink/schema"
	pq "github.com/parquet-go/parquet-go"
)

type item struct {
	ID    int64     `pagekit:"id,pk"`
	Name  string    `pagekit:"name"`
	Price string    `pagekit:"price,decimal"`
	Day   time.Time `pagekit:"day,naive_date"`
	At    time.Time `pagekit:"at"`
	Doc   []byte    `pagekit:"doc,json"`
	Gone  bool      `pagekit:"-"`
}

func itemOp(it item) schema.Op {
	if it.Gone {
		return schema.Delete
	}
	return schema.Upsert
}

func newSink(t *testing.T, dir string) *parquet.Sink[item] {
	t.Helper()
	s, err := parquet.New(context.Background(), parquet.Dir(dir), schema.Must(schema.Derive[item]("items")), parquet.Config[item]{Op: itemOp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func names(t *testing.T, dir string) []any {
	t.Helper()
	_, rows, err := parquet.ReadTable(context.Background(), parquet.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	for _, r := range rows {
		out = append(out, r["name"])
	}
	return out
}

func TestLayout(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "items")
	s := newSink(t, dir)
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	for i, p := range [][]item{
		{{ID: 1, Name: "a", Price: "1.50", Day: at, At: at, Doc: []byte(`{"k":1}`)}, {ID: 2, Name: "b"}},
		{{ID: 2, Name: "b2"}, {ID: 1, Gone: true}, {ID: 3, Name: "c"}, {ID: 3, Name: "c2"}},
	} {
		cp := paginate.Checkpoint{Stream: "items", Position: paginate.Position{Page: int64(i + 2)}}
		if err := s.Commit(ctx, p, cp); err != nil {
			t.Fatal(err)
		}
	}
	got := files(t, dir)
	re := regexp.MustCompile(`^0000000000000000000[12]-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.parquet$`)
	var data []string
	for _, n := range got {
		if strings.HasSuffix(n, ".parquet") {
			if !re.MatchString(n) {
				t.Errorf("file %s is not <seq>-<uuid>.parquet", n)
			}
			data = append(data, n)
		}
	}
	man := s.Manifest()
	if diff := cmp.Diff(data, man.FileNames()); diff != "" || man.Seq != 2 {
		t.Errorf("manifest files (-dir +manifest), seq %d:\n%s", man.Seq, diff)
	}
	if diff := cmp.Diff([]any{"b2", "c2"}, names(t, dir)); diff != "" {
		t.Errorf("current table (-want +got):\n%s", diff)
	}

	// The second file: one row per key, its last operation; the delete
	// has its key only; typed columns.
	f, err := os.Open(filepath.Join(dir, data[1]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := pq.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	sch := pf.Schema().String()
	for _, want := range []string{
		"optional int64 id (INT(64,true))", "optional binary name (STRING)",
		"optional fixed_len_byte_array(16) price (DECIMAL(38,9))", "optional int32 day (DATE)",
		"optional int64 at (TIMESTAMP(isAdjustedToUTC=true,unit=MICROS))", "optional binary doc (JSON)",
		"required binary _pagekit_op (STRING)", "required int64 _pagekit_seq (INT(64,true))",
	} {
		if !strings.Contains(sch, want) {
			t.Errorf("schema lacks %q:\n%s", want, sch)
		}
	}
	opc, _ := pf.Schema().Lookup("_pagekit_op")
	namec, _ := pf.Schema().Lookup("name")
	rows := make([]pq.Row, 10)
	n, _ := pf.RowGroups()[0].Rows().ReadRows(rows)
	var ops []string
	for _, r := range rows[:n] {
		ops = append(ops, r[opc.ColumnIndex].String()+" "+r[namec.ColumnIndex].String())
	}
	slices.Sort(ops)
	if diff := cmp.Diff([]string{"delete <null>", "upsert b2", "upsert c2"}, ops); diff != "" {
		t.Errorf("rows of commit 2 (-want +got):\n%s", diff)
	}
}

// A commit whose manifest is not written leaves its file behind, not part
// of the table; the next writer removes it, and stray temporary files.
func TestUncommittedFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "items")
	s := newSink(t, dir)
	if err := s.Commit(ctx, []item{{ID: 1, Name: "kept"}}, paginate.Checkpoint{Stream: "items", Position: paginate.Position{Page: 2}}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var left []string
	parquet.SetBeforeManifest(s, func() error {
		left = files(t, dir)
		return boom
	})
	if err := s.Commit(ctx, []item{{ID: 2, Name: "lost"}}, paginate.Checkpoint{Stream: "items", Position: paginate.Position{Page: 3}}); !errors.Is(err, boom) {
		t.Fatalf("Commit: %v, want boom", err)
	}
	if n := len(slices.DeleteFunc(left, func(n string) bool { return !strings.HasSuffix(n, ".parquet") })); n != 2 {
		t.Fatalf("%d Parquet files before the manifest, want 2: %v", n, left)
	}
	cp, _, _ := s.Load(ctx, "items")
	if cp.Position.Page != 2 {
		t.Errorf("checkpoint %+v, want page 2", cp)
	}
	committed := s.Manifest().FileNames()
	s.Close()
	// A crash leaves the file: put it back, torn, and a temporary one.
	for _, n := range left {
		if strings.HasSuffix(n, ".parquet") && !slices.Contains(committed, n) {
			os.WriteFile(filepath.Join(dir, n), []byte("PAR1 torn"), 0o644)
		}
	}
	os.WriteFile(filepath.Join(dir, ".tmp-123-x.parquet"), []byte("PAR1"), 0o644)
	if diff := cmp.Diff([]any{"kept"}, names(t, dir)); diff != "" {
		t.Errorf("a reader (-want +got):\n%s", diff)
	}
	s2 := newSink(t, dir)
	if err := s2.Lock(ctx, "items"); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"_manifest.json", "_pagekit.lock"}, s2.Manifest().FileNames()...)
	slices.Sort(want)
	if diff := cmp.Diff(want, files(t, dir)); diff != "" {
		t.Errorf("files once a writer took the lock (-want +got):\n%s", diff)
	}
}

func TestCompact(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "items")
	s := newSink(t, dir)
	for i := range 5 {
		p := []item{{ID: int64(i), Name: "v1"}, {ID: 0, Name: "zero v" + string(rune('1'+i))}}
		if i == 3 {
			p = append(p, item{ID: 1, Gone: true})
		}
		if err := s.Commit(ctx, p, paginate.Checkpoint{Stream: "items", Position: paginate.Position{Page: int64(i + 2)}}); err != nil {
			t.Fatal(err)
		}
	}
	before := names(t, dir)
	old := s.Manifest().FileNames()
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	man := s.Manifest()
	if len(man.Files) != 1 || !man.Files[0].Compacted || man.Seq != 6 || man.Files[0].Rows != 4 {
		t.Errorf("manifest after Compact: %+v", man)
	}
	if diff := cmp.Diff(before, names(t, dir)); diff != "" {
		t.Errorf("table changed by Compact (-before +after):\n%s", diff)
	}
	for _, n := range old {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("replaced file %s is still there: %v", n, err)
		}
	}
	if cp, _, _ := s.Load(ctx, "items"); cp.Position.Page != 6 {
		t.Errorf("checkpoint after Compact: %+v", cp)
	}
	// Commits go on after it.
	if err := s.Write(ctx, []item{{ID: 0, Name: "after"}}); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); got[0] != "after" {
		t.Errorf("table after a commit past Compact: %v", got)
	}
}

func TestDecimalThatDoesNotFit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "items")
	s := newSink(t, dir)
	for _, p := range []string{"0.0000000001", "1e29"} {
		err := s.Write(context.Background(), []item{{ID: 1, Name: "a", Price: "1"}, {ID: 7, Price: p}})
		var re *schema.RecordError
		if !errors.As(err, &re) || !errors.Is(err, schema.ErrBadValue) || re.Index != 1 || re.Column != "price" {
			t.Errorf("price %s: error = %v, want a RecordError for record 1, column price", p, err)
		}
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("rows after refused pages: %v", got)
	}
}

func TestSchemaChanges(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "items")
	s := newSink(t, dir)
	if err := s.Write(ctx, []item{{ID: 1, Name: "old"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	type wider struct {
		ID    int64  `pagekit:"id,pk"`
		Name  string `pagekit:"name"`
		Color string `pagekit:"color"`
	}
	w, err := parquet.New(ctx, parquet.Dir(dir), schema.Must(schema.Derive[wider]("items")), parquet.Config[wider]{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(ctx, []wider{{ID: 2, Name: "new", Color: "red"}}); err != nil {
		t.Fatal(err)
	}
	_, rows, err := parquet.ReadTable(ctx, parquet.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if rows[0]["color"] != nil || rows[1]["color"] != "red" || rows[0]["price"] != nil {
		t.Errorf("rows: %v", rows)
	}
	w.Close()
	type other struct {
		ID   string `pagekit:"id,pk"`
		Name string `pagekit:"name"`
	}
	_, err = parquet.New(ctx, parquet.Dir(dir), schema.Must(schema.Derive[other]("items")), parquet.Config[other]{})
	if !errors.Is(err, schema.ErrTableMismatch) || !strings.Contains(err.Error(), `column "id" is LONG, schema says STRING`) {
		t.Errorf("New with another key type: %v", err)
	}
}
