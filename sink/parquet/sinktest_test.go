package parquet_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/sink/internal/sinktest"
	"github.com/pagekit/pagekit/sink/parquet"
	"github.com/pagekit/pagekit/sink/schema"
)

// TestSinkTable runs the table every table sink runs.
func TestSinkTable(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		NewDest: func(t *testing.T) string { return filepath.Join(t.TempDir(), "table") },
		Open: func(t *testing.T, dest string, m *schema.Mapping[sinktest.Record], cfg sinktest.Config) (sinktest.Sink, error) {
			if cfg.DeletedColumn != "" {
				t.Fatal("the Parquet sink has no soft deletes")
			}
			return parquet.New(context.Background(), parquet.Dir(dest), m, parquet.Config[sinktest.Record]{Op: cfg.Op})
		},
		Rows: func(t *testing.T, dest, table string) []map[string]any {
			_, rows, err := parquet.ReadTable(context.Background(), parquet.Dir(dest))
			if err != nil {
				t.Fatal(err)
			}
			return rows
		},
		Locked:       func(err error) bool { return errors.Is(err, parquet.ErrLocked) },
		NoSoftDelete: true,
		TableLock:    true,
	})
}
