package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/sink/internal/sinktest"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// TestSinkTable runs the table every table sink runs.
func TestSinkTable(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		NewDest: func(t *testing.T) string { return filepath.Join(t.TempDir(), "test.db") },
		Open: func(t *testing.T, dest string, m *schema.Mapping[sinktest.Record], cfg sinktest.Config) (sinktest.Sink, error) {
			db, err := sqlite.Open(dest)
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { db.Close() })
			return sqlite.New(context.Background(), db, m, sqlite.Config[sinktest.Record]{Op: cfg.Op, DeletedColumn: cfg.DeletedColumn})
		},
		Rows: func(t *testing.T, dest, table string) []map[string]any {
			db, err := sqlite.Open(dest)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			return sinktest.Query(t, db, `SELECT * FROM "`+table+`"`)
		},
		Locked: func(err error) bool { return errors.Is(err, sqlite.ErrLocked) },
	})
}
