package duckdb_test

import (
	"context"
	"database/sql"
	"testing"
)

// queryRows returns the rows of q on conn, sorted by their first column,
// one map a row.
func queryRows(t *testing.T, _ *sql.DB, conn *sql.Conn, q string) []map[string]any {
	t.Helper()
	rs, err := conn.QueryContext(context.Background(), q+" ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := map[string]any{}
		for i, c := range cols {
			r[c] = vals[i]
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
