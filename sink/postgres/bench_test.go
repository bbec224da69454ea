package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/postgres"
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

// sinkCommit returns the sink's commit, on a fresh schema; path forces the
// array or the COPY path, or is "auto".
func sinkCommit(b *testing.B, path string) commitFunc {
	pool, nsp := testDB(b)
	s := newSink(b, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
	if path != "auto" {
		postgres.SetCopy(s, path == "copy")
	}
	return func(ctx context.Context, page []usertest.User, i int) error {
		return s.Commit(ctx, page, paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: int64(i + 2)}})
	}
}

// driverCommit returns the baseline: bare pgx doing the same work, COPY
// into a temporary table then INSERT ... ON CONFLICT and the checkpoint
// row, one transaction a page, with no schema, validation or lock.
func driverCommit(b *testing.B) commitFunc {
	ctx := context.Background()
	pool, nsp := testDB(b)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(conn.Release)
	tmp := nsp + "_tmp"
	for _, q := range []string{
		`CREATE SCHEMA "` + nsp + `"`,
		`CREATE TABLE "` + nsp + `"."user" ("id" text PRIMARY KEY, "name" text, "email" text, "address" text, "company" text, "job" text,
			"updatedAt" timestamptz, "createdAt" timestamptz)`,
		`CREATE TABLE "` + nsp + `".state (stream text PRIMARY KEY, checkpoint jsonb)`,
		`CREATE TEMP TABLE "` + tmp + `" (LIKE "` + nsp + `"."user") ON COMMIT DELETE ROWS`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	cols := []string{"id", "name", "email", "address", "company", "job", "updatedAt", "createdAt"}
	insert := `INSERT INTO "` + nsp + `"."user" SELECT * FROM "` + tmp + `" ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name",
		"email" = EXCLUDED."email", "address" = EXCLUDED."address", "company" = EXCLUDED."company", "job" = EXCLUDED."job",
		"updatedAt" = EXCLUDED."updatedAt", "createdAt" = EXCLUDED."createdAt"`
	save := `INSERT INTO "` + nsp + `".state VALUES ($1, $2::text::jsonb) ON CONFLICT (stream) DO UPDATE SET checkpoint = EXCLUDED.checkpoint`
	var rows [][]any
	return func(ctx context.Context, page []usertest.User, i int) error {
		rows = rows[:0]
		for _, u := range page {
			rows = append(rows, []any{u.ID, u.Name, u.Email, u.Address, u.Company, u.Job, u.UpdatedAt, u.CreatedAt})
		}
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{tmp}, cols, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, insert); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, save, "users", fmt.Sprintf(`{"page": %d}`, i))
			return err
		})
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
// each page with its checkpoint, as paginate.Run does: "auto" is the sink
// as configured, "array" and "copy" force one path.
func BenchmarkUpsert(b *testing.B) {
	for _, c := range benchCases {
		for _, path := range []string{"auto", "array", "copy"} {
			b.Run(c.name()+"/"+path, func(b *testing.B) { runCommits(b, c, sinkCommit(b, path)) })
		}
	}
}

// BenchmarkDriver is the baseline of BenchmarkUpsert; see driverCommit.
func BenchmarkDriver(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name(), func(b *testing.B) { runCommits(b, c, driverCommit(b)) })
	}
}

// BenchmarkVersus commits each page with the sink and then with the bare
// driver, into two tables, and times both, so that the comparison holds
// on a machine whose load changes during the run.
func BenchmarkVersus(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name(), func(b *testing.B) {
			ctx := context.Background()
			sink, driver := sinkCommit(b, "auto"), driverCommit(b)
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
