package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// sinks measures rows/s of page commits (rows and checkpoint in one
// transaction) into SQLite, and into PostgreSQL when PAGEKIT_POSTGRES_DSN
// is set, with the SDK example's USER table at 500 rows a page.
func sinks(ctx context.Context, cfg config) ([]row, error) {
	const perPage = 500
	users := mockapi.New(mockapi.Config{Records: cfg.sinkPages * perPage, Seed: 4}).Records()
	m, err := schema.Derive[mockapi.User]("user", "id")
	if err != nil {
		return nil, err
	}
	var rows []row

	dir, err := os.MkdirTemp("", "pagekit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "bench.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ls, err := sqlite.New(ctx, db, m, sqlite.Config[mockapi.User]{})
	if err != nil {
		return nil, err
	}
	defer ls.Close()
	r, err := commitRate(ctx, ls, users, perPage, "SQLite", ">= 200,000", 200_000)
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
	sch := fmt.Sprintf("pagekit_bench_%d", time.Now().UnixNano())
	ps, err := postgres.New(ctx, pool, m, postgres.Config[mockapi.User]{Schema: sch})
	if err != nil {
		return nil, err
	}
	defer func() {
		ps.Close()
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+sch+" CASCADE")
	}()
	r, err = commitRate(ctx, ps, users, perPage, "PostgreSQL", ">= 90,000", 90_000)
	if err != nil {
		return nil, err
	}
	return append(rows, r), nil
}

// commitRate commits users a page at a time, twice over (inserts, then
// updates of the same keys), and reports rows/s.
func commitRate(ctx context.Context, c paginate.Committer[mockapi.User], users []mockapi.User, perPage int, name, target string, want float64) (row, error) {
	start := time.Now()
	n := 0
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < len(users); i += perPage {
			page := users[i:min(i+perPage, len(users))]
			cp := paginate.Checkpoint{Stream: "bench", Position: paginate.Position{Offset: int64(i + len(page))}}
			if err := c.Commit(ctx, page, cp); err != nil {
				return row{}, fmt.Errorf("%s: %w", name, err)
			}
			n += len(page)
		}
	}
	el := time.Since(start)
	rate := float64(n) / el.Seconds()
	return row{
		name:     fmt.Sprintf("sinks: %s upserts, %d rows a page", name, perPage),
		measured: fmt.Sprintf("%.0f rows/s", rate),
		target:   target + " rows/s",
		ok:       rate >= want,
		detail:   fmt.Sprintf("%d rows (insert, then update) in %v, checkpoint in each page's transaction", n, el.Round(time.Millisecond)),
	}, nil
}
