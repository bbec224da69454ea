package console_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/sink/sqlite"
)

func TestTable(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE t (id TEXT, v TEXT); INSERT INTO t VALUES ('a', 'two' || char(10) || 'lines'), ('b', NULL), ('c', '` + strings.Repeat("x", 40) + `')`); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := console.Table(context.Background(), &b, db, "Rows:", `SELECT id, v FROM t ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	want := `
Rows:
+----+--------------------------------------+
| id | v                                    |
+----+--------------------------------------+
| a  | two / lines                          |
| b  | NULL                                 |
| c  | xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… |
+----+--------------------------------------+
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	if err := console.Table(context.Background(), &b, db, "", `SELECT nope FROM t`); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a bad query gave %v; want an error naming the column", err)
	}
}
