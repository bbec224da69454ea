package duckdb_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/internal/sinktest"
	"github.com/pagekit/pagekit/sink/schema"
)

// TestSinkTable runs the table every table sink runs.
func TestSinkTable(t *testing.T) {
	dbs := make(map[string]*sql.DB) // one database a destination, as a process has
	db := func(t *testing.T, dest string) *sql.DB {
		if db := dbs[dest]; db != nil {
			return db
		}
		db, err := duckdb.Open(dest)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close(); delete(dbs, dest) })
		dbs[dest] = db
		return db
	}
	sinktest.Run(t, sinktest.Harness{
		NewDest: func(t *testing.T) string { return filepath.Join(t.TempDir(), "test.duckdb") },
		Open: func(t *testing.T, dest string, m *schema.Mapping[sinktest.Record], cfg sinktest.Config) (sinktest.Sink, error) {
			return duckdb.New(context.Background(), db(t, dest), m, duckdb.Config[sinktest.Record]{Op: cfg.Op, DeletedColumn: cfg.DeletedColumn})
		},
		Rows: func(t *testing.T, dest, table string) []map[string]any {
			return sinktest.Query(t, db(t, dest), `SELECT * FROM "`+table+`"`)
		},
		Locked: func(err error) bool { return errors.Is(err, duckdb.ErrLocked) },
	})
}
