package duckdb_test

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/internal/sinktest"
	"github.com/pagekit/pagekit/sink/parquet"
	"github.com/pagekit/pagekit/sink/schema"
)

type product struct {
	ID    int64     `pagekit:"id,pk"`
	Name  string    `pagekit:"name"`
	Price string    `pagekit:"price,decimal"`
	Day   time.Time `pagekit:"day,naive_date"`
	At    time.Time `pagekit:"at"`
	Doc   []byte    `pagekit:"doc,json"`
	Gone  bool      `pagekit:"-"`
}

// TestReadParquet has DuckDB read a table that sink/parquet wrote, with
// the query its documentation gives (the manifest's files, the newest row
// of each key, deletes dropped), across commits that update and delete
// keys and one that adds a column: DuckDB and parquet.ReadTable must see
// the same table, with DuckDB's own types for the columns.
func TestReadParquet(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "lake", "product")
	s, err := parquet.New(ctx, parquet.Dir(dir), schema.Must(schema.Derive[product]("product")), parquet.Config[product]{
		Op: func(p product) schema.Op {
			if p.Gone {
				return schema.Delete
			}
			return schema.Upsert
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 2, 29, 23, 59, 58, 999999000, time.UTC)
	var page []product
	for i := range 300 {
		page = append(page, product{ID: int64(i), Name: fmt.Sprintf("p%d", i), Price: fmt.Sprintf("%d.%02d", i, i%100),
			Day: at.AddDate(0, 0, i), At: at.Add(time.Duration(i) * time.Second), Doc: []byte(fmt.Sprintf(`{"i":%d}`, i))})
	}
	commits := [][]product{
		page,
		{{ID: 5, Name: "p5 again", Price: "-12345678901234567890.123456789"}, {ID: 7, Gone: true}, {ID: 300, Name: "new"}},
		{{ID: 7, Name: "back"}, {ID: 8, Gone: true}, {ID: 9, Name: "twice"}, {ID: 9, Name: "thrice"}},
	}
	for i, c := range commits {
		if err := s.Commit(ctx, c, paginate.Checkpoint{Stream: "product", Position: paginate.Position{Page: int64(i + 2)}}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	type wider struct {
		ID    int64  `pagekit:"id,pk"`
		Color string `pagekit:"color"`
	}
	w, err := parquet.New(ctx, parquet.Dir(dir), schema.Must(schema.Derive[wider]("product")), parquet.Config[wider]{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ctx, []wider{{ID: 301, Color: "red"}}); err != nil {
		t.Fatal(err)
	}
	w.Close()

	man, want, err := parquet.ReadTable(ctx, parquet.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	db, err := duckdb.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The query of sink/parquet's documentation.
	lit := strings.ReplaceAll(dir, "'", "''")
	if _, err := conn.ExecContext(ctx, `SET VARIABLE files = (
		SELECT list('`+lit+`/' || f.name)
		FROM (SELECT unnest(files) AS f FROM read_json('`+lit+`/_manifest.json')))`); err != nil {
		t.Fatal(err)
	}
	q := `SELECT * EXCLUDE (_pagekit_op, _pagekit_seq)
		FROM read_parquet(getvariable('files'), union_by_name = true)
		QUALIFY row_number() OVER (PARTITION BY id ORDER BY _pagekit_seq DESC) = 1
		    AND _pagekit_op = 'upsert'`
	var got []map[string]any
	rows, err := conn.QueryContext(ctx, q+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	types, _ := rows.ColumnTypes()
	rows.Close()
	gotTypes := map[string]string{}
	for _, ct := range types {
		gotTypes[ct.Name()] = ct.DatabaseTypeName()
	}
	wantTypes := map[string]string{"id": "BIGINT", "name": "VARCHAR", "price": "DECIMAL(38,9)", "day": "DATE",
		"at": "TIMESTAMPTZ", "doc": "JSON", "color": "VARCHAR"}
	if diff := gocmp.Diff(wantTypes, gotTypes); diff != "" {
		t.Errorf("DuckDB's column types (-want +got):\n%s", diff)
	}
	got = queryRows(t, db, conn, q)
	canon := func(rows []map[string]any) []map[string]any {
		var out []map[string]any
		for _, r := range rows {
			c := map[string]any{}
			for _, col := range man.Table.Columns {
				c[col.Name] = sinktest.Canonical(t, col.Type, r[col.Name])
			}
			out = append(out, c)
		}
		slices.SortFunc(out, func(a, b map[string]any) int { return cmp.Compare(a["id"].(int64), b["id"].(int64)) })
		return out
	}
	if len(got) != 301 {
		t.Errorf("DuckDB sees %d rows, want 301 (300, 2 new, 1 deleted for good)", len(got))
	}
	if diff := gocmp.Diff(canon(want), canon(got)); diff != "" {
		t.Errorf("DuckDB's table (-parquet.ReadTable +DuckDB):\n%s", diff)
	}
}
