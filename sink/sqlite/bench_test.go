package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/sqlite"
)

var pageSizes = []int{50, 500, 5000}

// BenchmarkUpsert measures the sink committing pages of new USER records,
// each page with its checkpoint, as paginate.Run does.
func BenchmarkUpsert(b *testing.B) {
	for _, n := range pageSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			s, err := sqlite.New(ctx, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			users := usertest.Generate(b.N*n, 1)
			b.ResetTimer()
			for i := range b.N {
				cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: int64(i + 2)}}
				if err := s.Commit(ctx, users[i*n:(i+1)*n], cp); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkDriver is the baseline: the bare driver doing the same work,
// multi-row upserts of 100 rows a statement and the checkpoint row, one
// transaction a page, with no schema, validation or conversion layer.
func BenchmarkDriver(b *testing.B) {
	for _, n := range pageSizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			ctx := context.Background()
			db, err := sqlite.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			conn, err := db.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			for _, q := range []string{
				`CREATE TABLE "user" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT, "address" TEXT, "company" TEXT, "job" TEXT,
					"updatedAt" TEXT, "createdAt" TEXT, PRIMARY KEY ("id")) STRICT, WITHOUT ROWID`,
				`CREATE TABLE state (stream TEXT PRIMARY KEY, position TEXT)`,
			} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			const per = 100
			stmt := func(rows int) *sql.Stmt {
				q := `INSERT INTO "user" VALUES ` + strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", rows-1) + "(?, ?, ?, ?, ?, ?, ?, ?)" +
					` ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "email" = excluded."email", "address" = excluded."address",
					"company" = excluded."company", "job" = excluded."job", "updatedAt" = excluded."updatedAt", "createdAt" = excluded."createdAt"`
				st, err := conn.PrepareContext(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				return st
			}
			full, rest := stmt(min(per, n)), (*sql.Stmt)(nil)
			if n%per != 0 && n > per {
				rest = stmt(n % per)
			}
			save, err := conn.PrepareContext(ctx, `INSERT INTO state VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET position = excluded.position`)
			if err != nil {
				b.Fatal(err)
			}
			users := usertest.Generate(b.N*n, 1)
			args := make([]any, 0, per*8)
			b.ResetTimer()
			for i := range b.N {
				page := users[i*n : (i+1)*n]
				if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
					b.Fatal(err)
				}
				for len(page) > 0 {
					k := min(per, len(page))
					st := full
					if k < per && k != n {
						st = rest
					}
					args = args[:0]
					for _, u := range page[:k] {
						args = append(args, u.ID, u.Name, u.Email, u.Address, u.Company, u.Job,
							sqlite.FormatDatetime(u.UpdatedAt), sqlite.FormatDatetime(u.CreatedAt))
					}
					if _, err := st.ExecContext(ctx, args...); err != nil {
						b.Fatal(err)
					}
					page = page[k:]
				}
				if _, err := save.ExecContext(ctx, "users", fmt.Sprint(i)); err != nil {
					b.Fatal(err)
				}
				if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
