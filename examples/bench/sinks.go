package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// pageCommit commits one page of users with the checkpoint cp.
type pageCommit func(ctx context.Context, users []mockapi.User, cp paginate.Checkpoint) error

// sinks commits the same pages of the SDK example's USER table, 500 rows a page,
// with a sink and with the bare driver doing the same work, page by page in
// turn, and states the sink's throughput as a ratio to the driver's:
// absolute rows/s move by 2x between runs of a shared machine, the ratio
// much less. SQLite always; PostgreSQL when PAGEKIT_POSTGRES_DSN is set.
func sinks(ctx context.Context, cfg config) ([]row, error) {
	const perPage = 500
	users := mockapi.New(mockapi.Config{Records: cfg.sinkPages * perPage, Seed: 4}).Records()
	m, err := schema.Derive[mockapi.User]("user", "id")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pagekit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var rows []row
	r, err := versus(ctx, cfg, "SQLite", users, perPage, func(rep int) (pageCommit, pageCommit, func(), error) {
		return sqlitePair(ctx, m, filepath.Join(dir, fmt.Sprintf("rep%d", rep)))
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, r)
	r, err = versus(ctx, cfg, "Parquet", users, perPage, func(rep int) (pageCommit, pageCommit, func(), error) {
		return parquetPair(ctx, m, filepath.Join(dir, fmt.Sprintf("rep%d", rep)))
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, r)

	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	if dsn == "" {
		return append(rows, row{name: "sinks: PostgreSQL", measured: "skipped", detail: "set PAGEKIT_POSTGRES_DSN to measure"}), nil
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	r, err = versus(ctx, cfg, "PostgreSQL", users, perPage, func(int) (pageCommit, pageCommit, func(), error) {
		return postgresPair(ctx, pool, m)
	})
	if err != nil {
		return nil, err
	}
	return append(rows, r), nil
}

// versus commits users a page at a time, twice over (inserts, then updates
// of the same keys), with the sink and the driver that pair returns, in
// turn page by page; it does that cfg.sinkReps times, each into new
// tables, and reports the median of the driver's time over the sink's.
func versus(ctx context.Context, cfg config, name string, users []mockapi.User, perPage int,
	pair func(rep int) (sink, driver pageCommit, closeAll func(), err error)) (row, error) {
	var ratios []float64
	var ts, td time.Duration
	for rep := 0; rep < cfg.sinkReps; rep++ {
		sink, driver, closeAll, err := pair(rep)
		if err != nil {
			return row{}, fmt.Errorf("%s: %w", name, err)
		}
		var s, d time.Duration
		for pass := 0; pass < 2; pass++ {
			for i := 0; i < len(users); i += perPage {
				page := users[i:min(i+perPage, len(users))]
				cp := paginate.Checkpoint{Stream: "bench", Position: paginate.Position{Offset: int64(i + len(page))}}
				t0 := time.Now()
				err := sink(ctx, page, cp)
				t1 := time.Now()
				if err == nil {
					err = driver(ctx, page, cp)
				}
				if err != nil {
					closeAll()
					return row{}, fmt.Errorf("%s: %w", name, err)
				}
				s, d = s+t1.Sub(t0), d+time.Since(t1)
			}
		}
		closeAll()
		ratios = append(ratios, d.Seconds()/s.Seconds())
		ts, td = ts+s, td+d
	}
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	n := float64(2 * len(users) * cfg.sinkReps)
	r := row{
		name:     fmt.Sprintf("sinks: %s upserts, sink / bare driver, %d rows a page", name, perPage),
		measured: fmt.Sprintf("%.2f", ratio),
		detail: fmt.Sprintf("median of %d, throughput ratio; %d rows a rep (insert, then update), checkpoint in each page's transaction: sink %.0f rows/s, driver %.0f rows/s",
			cfg.sinkReps, 2*len(users), n/ts.Seconds(), n/td.Seconds()),
	}
	if name == "SQLite" {
		r.target, r.ok = ">= 0.95", ratio >= 0.95
	}
	return r, nil
}

// sqlitePair returns the SQLite sink and the bare driver, each into a new
// database under prefix.
func sqlitePair(ctx context.Context, m *schema.Mapping[mockapi.User], prefix string) (pageCommit, pageCommit, func(), error) {
	sdb, err := sqlite.Open(prefix + "-sink.db")
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := sqlite.New(ctx, sdb, m, sqlite.Config[mockapi.User]{})
	if err != nil {
		sdb.Close()
		return nil, nil, nil, err
	}
	driver, closeDriver, err := sqliteDriver(ctx, m, prefix+"-driver.db")
	if err != nil {
		s.Close()
		sdb.Close()
		return nil, nil, nil, err
	}
	return s.Commit, driver, func() { s.Close(); sdb.Close(); closeDriver() }, nil
}

// sqliteDriver is the baseline: database/sql and the driver with the
// settings of sqlite.Open, doing the sink's work with no schema,
// validation or conversion layer: multi-row upserts of 100 rows a
// statement into the same table (created by a sink, then closed), the
// checkpoint as JSON in the state table, one BEGIN IMMEDIATE transaction a
// page.
func sqliteDriver(ctx context.Context, m *schema.Mapping[mockapi.User], path string) (pageCommit, func(), error) {
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if s, err := sqlite.New(ctx, db, m, sqlite.Config[mockapi.User]{}); err != nil {
		db.Close()
		return nil, nil, err
	} else {
		s.Close()
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	closeAll := func() { conn.Close(); db.Close() }
	cols := m.Table().Columns
	const per = 100
	var names, sets []string
	for _, c := range cols {
		names = append(names, `"`+c.Name+`"`)
		sets = append(sets, fmt.Sprintf(`"%s" = excluded."%s"`, c.Name, c.Name))
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	stmts := map[int]*sql.Stmt{}
	stmt := func(rows int) (*sql.Stmt, error) {
		if st := stmts[rows]; st != nil {
			return st, nil
		}
		q := `INSERT INTO "user" (` + strings.Join(names, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ") +
			` ON CONFLICT ("id") DO UPDATE SET ` + strings.Join(sets[1:], ", ")
		st, err := conn.PrepareContext(ctx, q)
		stmts[rows] = st
		return st, err
	}
	save, err := conn.PrepareContext(ctx, `INSERT INTO "_pagekit_state" (stream, checkpoint, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (stream) DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = excluded.updated_at`)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	args := make([]any, 0, per*len(cols))
	commit := func(ctx context.Context, page []mockapi.User, cp paginate.Checkpoint) error {
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		for len(page) > 0 {
			k := min(per, len(page))
			st, err := stmt(k)
			if err != nil {
				return err
			}
			args = args[:0]
			for _, u := range page[:k] {
				for _, c := range cols {
					args = append(args, userValue(&u, c.Name))
				}
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
			page = page[k:]
		}
		text, err := json.Marshal(cp)
		if err != nil {
			return err
		}
		if _, err := save.ExecContext(ctx, cp.Stream, string(text), sqlite.FormatDatetime(time.Now())); err != nil {
			return err
		}
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	return commit, closeAll, nil
}

// userValue returns the SQLite value of u's column name.
func userValue(u *mockapi.User, name string) any {
	switch name {
	case "id":
		return u.ID
	case "name":
		return u.Name
	case "email":
		return u.Email
	case "address":
		return u.Address
	case "company":
		return u.Company
	case "job":
		return u.Job
	case "createdAt":
		return sqlite.FormatDatetime(u.CreatedAt)
	case "updatedAt":
		return sqlite.FormatDatetime(u.UpdatedAt)
	}
	panic("bench: no column " + name)
}

// postgresPair returns the PostgreSQL sink and the bare driver, each into
// a new schema.
func postgresPair(ctx context.Context, pool *pgxpool.Pool, m *schema.Mapping[mockapi.User]) (pageCommit, pageCommit, func(), error) {
	sch := fmt.Sprintf("pagekit_bench_%d", time.Now().UnixNano())
	drop := func() {
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+sch+"_sink CASCADE")
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+sch+"_driver CASCADE")
	}
	s, err := postgres.New(ctx, pool, m, postgres.Config[mockapi.User]{Schema: sch + "_sink"})
	if err != nil {
		return nil, nil, nil, err
	}
	driver, closeDriver, err := postgresDriver(ctx, pool, m, sch+"_driver")
	if err != nil {
		s.Close()
		drop()
		return nil, nil, nil, err
	}
	return s.Commit, driver, func() { s.Close(); closeDriver(); drop() }, nil
}

// postgresDriver is the baseline: bare pgx doing the sink's work: COPY into
// a temporary table, INSERT ... SELECT ... ON CONFLICT DO UPDATE into the
// same table (created by a sink, then closed), the checkpoint row, one
// transaction a page.
func postgresDriver(ctx context.Context, pool *pgxpool.Pool, m *schema.Mapping[mockapi.User], sch string) (pageCommit, func(), error) {
	s, err := postgres.New(ctx, pool, m, postgres.Config[mockapi.User]{Schema: sch})
	if err != nil {
		return nil, nil, err
	}
	s.Close()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	tmp := sch + "_tmp"
	for _, q := range []string{
		`CREATE TABLE "` + sch + `".bench_state (stream text PRIMARY KEY, checkpoint jsonb)`,
		`CREATE TEMP TABLE "` + tmp + `" (LIKE "` + sch + `"."user") ON COMMIT DELETE ROWS`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Release()
			return nil, nil, err
		}
	}
	var cols, sets []string
	for _, c := range m.Table().Columns {
		cols = append(cols, c.Name)
		if c.Name != "id" {
			sets = append(sets, fmt.Sprintf(`"%s" = EXCLUDED."%s"`, c.Name, c.Name))
		}
	}
	insert := `INSERT INTO "` + sch + `"."user" SELECT * FROM "` + tmp + `" ON CONFLICT ("id") DO UPDATE SET ` + strings.Join(sets, ", ")
	save := `INSERT INTO "` + sch + `".bench_state VALUES ($1, $2::text::jsonb) ON CONFLICT (stream) DO UPDATE SET checkpoint = EXCLUDED.checkpoint`
	var rows [][]any
	commit := func(ctx context.Context, page []mockapi.User, cp paginate.Checkpoint) error {
		rows = rows[:0]
		for _, u := range page {
			var r []any
			for _, c := range cols {
				v := userValue(&u, c)
				if c == "createdAt" {
					v = u.CreatedAt
				} else if c == "updatedAt" {
					v = u.UpdatedAt
				}
				r = append(r, v)
			}
			rows = append(rows, r)
		}
		text, err := json.Marshal(cp)
		if err != nil {
			return err
		}
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{tmp}, cols, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, insert); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, save, cp.Stream, string(text))
			return err
		})
	}
	return commit, conn.Release, nil
}
