package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// benchCase is a page size, with keys in ascending order (each page
// appends to the table's key order) or in random order (UUID keys land all
// over the key index).
type benchCase struct {
	rows   int
	random bool
}

var benchCases = []benchCase{{50, false}, {500, false}, {5000, false}, {500, true}}

func (c benchCase) name() string {
	keys := "ordered"
	if c.random {
		keys = "random"
	}
	return fmt.Sprintf("rows=%d/keys=%s", c.rows, keys)
}

// users returns the users of n pages.
func (c benchCase) users(pages int) []usertest.User {
	users := usertest.Generate(pages*c.rows, 1)
	if c.random {
		usertest.RandomIDs(users, 1)
	}
	return users
}

// commitFunc commits page number i (from 0).
type commitFunc func(ctx context.Context, page []usertest.User, i int) error

// sinkCommit returns the sink's commit, into a new database.
func sinkCommit(b *testing.B) commitFunc {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "sink.db"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := sqlite.New(ctx, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); db.Close() })
	return func(ctx context.Context, page []usertest.User, i int) error {
		return s.Commit(ctx, page, paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: int64(i + 2)}})
	}
}

// driverCommit returns the baseline: the bare driver, with the settings of
// sqlite.Open, doing the same work: multi-row upserts of 100 rows a
// statement into the same table and the checkpoint row, one transaction a
// page, with no schema, validation or conversion layer.
func driverCommit(b *testing.B, n int) commitFunc {
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "driver.db"))
	if err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(); db.Close() })
	for _, q := range []string{
		`CREATE TABLE "user" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT, "address" TEXT, "company" TEXT, "job" TEXT,
			"updatedAt" TEXT, "createdAt" TEXT, PRIMARY KEY ("id")) STRICT`,
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
	args := make([]any, 0, per*8)
	return func(ctx context.Context, page []usertest.User, i int) error {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
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
				return err
			}
			page = page[k:]
		}
		if _, err := save.ExecContext(ctx, "users", fmt.Sprint(i)); err != nil {
			return err
		}
		_, err := conn.ExecContext(ctx, "COMMIT")
		return err
	}
}

func runCommits(b *testing.B, c benchCase, commit commitFunc) {
	ctx := context.Background()
	n := c.rows
	users := c.users(b.N)
	b.ResetTimer()
	for i := range b.N {
		if err := commit(ctx, users[i*n:(i+1)*n], i); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkUpsert measures the sink committing pages of new USER records,
// each page with its checkpoint, as paginate.Run does.
func BenchmarkUpsert(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name(), func(b *testing.B) { runCommits(b, c, sinkCommit(b)) })
	}
}

// BenchmarkDriver is the baseline of BenchmarkUpsert; see driverCommit.
func BenchmarkDriver(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name(), func(b *testing.B) { runCommits(b, c, driverCommit(b, c.rows)) })
	}
}

// BenchmarkVersus commits each page with the sink and then with the bare
// driver, into two databases, and times both, so that the comparison holds
// on a machine whose load changes during the run.
func BenchmarkVersus(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name(), func(b *testing.B) {
			ctx := context.Background()
			sink, driver := sinkCommit(b), driverCommit(b, c.rows)
			n := c.rows
			users := c.users(b.N)
			var ts, td time.Duration
			b.ResetTimer()
			for i := range b.N {
				page := users[i*n : (i+1)*n]
				t0 := time.Now()
				if err := sink(ctx, page, i); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := driver(ctx, page, i); err != nil {
					b.Fatal(err)
				}
				ts, td = ts+t1.Sub(t0), td+time.Since(t1)
			}
			b.ReportMetric(float64(b.N*n)/ts.Seconds(), "sink-rows/s")
			b.ReportMetric(float64(b.N*n)/td.Seconds(), "driver-rows/s")
			b.ReportMetric(td.Seconds()/ts.Seconds(), "sink/driver")
		})
	}
}
