package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pagekit/pagekit/sink/internal/sinktest"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
)

// TestSinkTable runs the table every table sink runs; a destination is a
// schema of the test database.
func TestSinkTable(t *testing.T) {
	var pool *pgxpool.Pool
	sinktest.Run(t, sinktest.Harness{
		NewDest: func(t *testing.T) string {
			var nsp string
			pool, nsp = testDB(t)
			return nsp
		},
		Open: func(t *testing.T, nsp string, m *schema.Mapping[sinktest.Record], cfg sinktest.Config) (sinktest.Sink, error) {
			return postgres.New(context.Background(), pool, m, postgres.Config[sinktest.Record]{Schema: nsp, Op: cfg.Op, DeletedColumn: cfg.DeletedColumn})
		},
		Rows: func(t *testing.T, nsp, table string) []map[string]any {
			db := stdlib.OpenDBFromPool(pool)
			defer db.Close()
			return sinktest.Query(t, db, `SELECT * FROM "`+nsp+`"."`+table+`"`)
		},
		Locked: func(err error) bool { return errors.Is(err, postgres.ErrLocked) },
	})
}
