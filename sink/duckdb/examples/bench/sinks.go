package main

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	duck "github.com/duckdb/duckdb-go/v2"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/schema"
)

// pageCommit commits one page of users with the checkpoint cp.
type pageCommit func(ctx context.Context, users []mockapi.User, cp paginate.Checkpoint) error

// sinks measures the DuckDB sink against the bare driver, and the upsert
// by statements against the Appender's, as examples/bench's sinks row
// does for SQLite and PostgreSQL: the same pages of 500 USER records,
// inserted then updated, each contender in turn page by page, into new
// databases each rep.
func sinks(ctx context.Context, cfg config) ([]row, error) {
	const perPage = 500
	users := mockapi.New(mockapi.Config{Records: cfg.sinkPages * perPage, Seed: 4}).Records()
	m, err := schema.Derive[mockapi.User]("user", "id")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pagekit-duckdb-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	r1, err := versus(ctx, cfg, users, perPage, func(rep int) (pageCommit, pageCommit, func(), error) {
		s, closeSink, err := sinkCommit(ctx, m, filepath.Join(dir, fmt.Sprintf("sink%d.duckdb", rep)))
		if err != nil {
			return nil, nil, nil, err
		}
		d, closeDriver, err := driverCommit(ctx, m, filepath.Join(dir, fmt.Sprintf("driver%d.duckdb", rep)), false)
		if err != nil {
			closeSink()
			return nil, nil, nil, err
		}
		return s, d, func() { closeSink(); closeDriver() }, nil
	})
	if err != nil {
		return nil, err
	}
	r1.name = fmt.Sprintf("sinks: DuckDB upserts, sink / bare driver (Appender), %d rows a page", perPage)
	r1.target, r1.ok = ">= 0.9", r1.ratio >= 0.9
	r2, err := versus(ctx, cfg, users, perPage, func(rep int) (pageCommit, pageCommit, func(), error) {
		a, closeA, err := driverCommit(ctx, m, filepath.Join(dir, fmt.Sprintf("stmt%d.duckdb", rep)), true)
		if err != nil {
			return nil, nil, nil, err
		}
		b, closeB, err := driverCommit(ctx, m, filepath.Join(dir, fmt.Sprintf("app%d.duckdb", rep)), false)
		if err != nil {
			closeA()
			return nil, nil, nil, err
		}
		return a, b, func() { closeA(); closeB() }, nil
	})
	if err != nil {
		return nil, err
	}
	r2.name = fmt.Sprintf("sinks: DuckDB INSERT ... ON CONFLICT statements / Appender + one upsert, %d rows a page", perPage)
	r2.detail = strings.NewReplacer("sink ", "statements ", "driver ", "Appender ").Replace(r2.detail)
	return []row{r1.row, r2.row}, nil
}

type ratioRow struct {
	row
	ratio float64
}

// versus commits users a page at a time, twice over (inserts, then updates
// of the same keys), with a and b in turn, cfg.sinkReps times, and reports
// the median of b's time over a's: a's throughput as a ratio to b's.
func versus(ctx context.Context, cfg config, users []mockapi.User, perPage int,
	pair func(rep int) (a, b pageCommit, closeAll func(), err error)) (ratioRow, error) {
	var ratios []float64
	var ta, tb time.Duration
	for rep := 0; rep < cfg.sinkReps; rep++ {
		a, b, closeAll, err := pair(rep)
		if err != nil {
			return ratioRow{}, err
		}
		var da, db time.Duration
		for pass := 0; pass < 2; pass++ {
			for i := 0; i < len(users); i += perPage {
				page := users[i:min(i+perPage, len(users))]
				cp := paginate.Checkpoint{Stream: "bench", Position: paginate.Position{Offset: int64(i + len(page))}}
				t0 := time.Now()
				err := a(ctx, page, cp)
				t1 := time.Now()
				if err == nil {
					err = b(ctx, page, cp)
				}
				if err != nil {
					closeAll()
					return ratioRow{}, err
				}
				da, db = da+t1.Sub(t0), db+time.Since(t1)
			}
		}
		closeAll()
		ratios = append(ratios, db.Seconds()/da.Seconds())
		ta, tb = ta+da, tb+db
	}
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	n := float64(2 * len(users) * cfg.sinkReps)
	return ratioRow{ratio: ratio, row: row{
		measured: fmt.Sprintf("%.2f", ratio),
		detail: fmt.Sprintf("median of %d, throughput ratio; %d rows a rep (insert, then update), checkpoint in each page's transaction: sink %.0f rows/s, driver %.0f rows/s",
			cfg.sinkReps, 2*len(users), n/ta.Seconds(), n/tb.Seconds()),
	}}, nil
}

// sinkCommit returns the DuckDB sink's Commit into a new database at path.
func sinkCommit(ctx context.Context, m *schema.Mapping[mockapi.User], path string) (pageCommit, func(), error) {
	db, err := duckdb.Open(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := duckdb.New(ctx, db, m, duckdb.Config[mockapi.User]{})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return s.Commit, func() { s.Close(); db.Close() }, nil
}

// driverCommit is the baseline: database/sql and the DuckDB driver doing
// the sink's work with no schema, validation or conversion layer, into the
// same table (created by a sink, then closed): one transaction a page with
// the page's rows and the checkpoint as JSON in the state table. The rows
// go through the Appender into one INSERT OR REPLACE, or, with stmts, by
// multi-row INSERT ... ON CONFLICT DO UPDATE statements of 100 rows.
func driverCommit(ctx context.Context, m *schema.Mapping[mockapi.User], path string, stmts bool) (pageCommit, func(), error) {
	db, err := duckdb.Open(path)
	if err != nil {
		return nil, nil, err
	}
	if s, err := duckdb.New(ctx, db, m, duckdb.Config[mockapi.User]{}); err != nil {
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
	fail := func(err error) (pageCommit, func(), error) { closeAll(); return nil, nil, err }
	save, err := conn.PrepareContext(ctx, `INSERT OR REPLACE INTO _pagekit_state (stream, checkpoint, updated_at) VALUES (?, ?, ?)`)
	if err != nil {
		return fail(err)
	}
	var write func(page []mockapi.User) error
	if stmts {
		const per = 100
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", 8), ", ") + ")"
		st, err := conn.PrepareContext(ctx, `INSERT INTO "user" (id, name, email, address, company, job, "createdAt", "updatedAt") VALUES `+
			strings.TrimSuffix(strings.Repeat(one+", ", per), ", ")+` ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, `+
			`address = excluded.address, company = excluded.company, job = excluded.job, "createdAt" = excluded."createdAt", "updatedAt" = excluded."updatedAt"`)
		if err != nil {
			return fail(err)
		}
		args := make([]any, 0, per*8)
		write = func(page []mockapi.User) error {
			for ; len(page) >= per; page = page[per:] {
				args = args[:0]
				for _, u := range page[:per] {
					args = append(args, u.ID, u.Name, u.Email, u.Address, u.Company, u.Job, u.CreatedAt, u.UpdatedAt)
				}
				if _, err := st.ExecContext(ctx, args...); err != nil {
					return err
				}
			}
			if len(page) > 0 {
				return fmt.Errorf("bench: a page of %d rows is not a multiple of %d", len(page), per)
			}
			return nil
		}
	} else {
		var app *duck.Appender
		err := conn.Raw(func(dc any) error {
			var err error
			app, err = duck.NewTableAppender(dc.(driver.Conn), `INSERT OR REPLACE INTO "user" SELECT * FROM appended_data`, "", "", "user", nil)
			return err
		})
		if err != nil {
			return fail(err)
		}
		write = func(page []mockapi.User) error {
			for _, u := range page {
				if err := app.AppendRow(u.ID, u.Name, u.Email, u.Address, u.Company, u.Job, u.CreatedAt, u.UpdatedAt); err != nil {
					return err
				}
			}
			return app.Flush()
		}
		prev := closeAll
		closeAll = func() { app.Close(); prev() }
	}
	commit := func(ctx context.Context, page []mockapi.User, cp paginate.Checkpoint) error {
		text, err := json.Marshal(cp)
		if err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
			return err
		}
		if err := write(page); err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
			return err
		}
		if _, err := save.ExecContext(ctx, cp.Stream, string(text), time.Now().UTC()); err != nil {
			conn.ExecContext(ctx, "ROLLBACK")
			return err
		}
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	return commit, closeAll, nil
}
