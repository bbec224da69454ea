package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
)

// pgDSN returns the DSN of the test database, or skips the test when there
// is none (and fails it when PAGEKIT_REQUIRE_POSTGRES=1, as in CI).
func pgDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("PAGEKIT_POSTGRES_DSN")
	if dsn == "" {
		const how = "PAGEKIT_POSTGRES_DSN is not set; to run the PostgreSQL tests, start a server and set it, " +
			"e.g. PAGEKIT_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/pagekit_test?sslmode=disable' (.ci/run does)"
		if os.Getenv("PAGEKIT_REQUIRE_POSTGRES") == "1" {
			t.Fatal(how + ", but PAGEKIT_REQUIRE_POSTGRES=1")
		}
		t.Skip(how)
	}
	return dsn
}

// pgFresh creates an empty schema for the test, dropped at its end, and
// returns the DSN with that schema first in the search path, so that the
// flagship's tables go there and never meet another test's.
func pgFresh(t *testing.T, dsn string) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("examples_pagenumber_%d_%d", os.Getpid(), rand.Uint32())
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		// A killed run's session may still hold the schema's locks.
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(cctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + name
}

// pgState returns the rows of the "user" table, sorted by id, and the
// checkpoint, read in one snapshot: a commit that a killed run had sent
// may land while we look, but never between the two reads.
func pgState(t *testing.T, dsn string) ([]mockapi.User, paginate.Checkpoint, bool) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var cp paginate.Checkpoint
	var text []byte
	found := true
	err = tx.QueryRow(ctx, `SELECT checkpoint FROM "_pagekit_state" WHERE stream = 'user'`).Scan(&text)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		found = false
	case err != nil && strings.Contains(err.Error(), "does not exist"):
		return nil, cp, false // the run was killed before it created its tables
	case err != nil:
		t.Fatal(err)
	default:
		if err := json.Unmarshal(text, &cp); err != nil {
			t.Fatalf("checkpoint %s: %v", text, err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT id, name, email, address, company, job, "updatedAt", "createdAt" FROM "user" ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mockapi.User, error) {
		var u mockapi.User
		err := r.Scan(&u.ID, &u.Name, &u.Email, &u.Address, &u.Company, &u.Job, &u.UpdatedAt, &u.CreatedAt)
		u.UpdatedAt, u.CreatedAt = u.UpdatedAt.UTC(), u.CreatedAt.UTC()
		return u, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return users, cp, found
}

// TestPostgres: the full and incremental syncs of TestFullSync and
// TestIncremental, into PostgreSQL.
func TestPostgres(t *testing.T) {
	dsn := pgFresh(t, pgDSN(t))
	api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 12})
	cfg := testConfig(t, api.URL)
	cfg.Postgres = dsn
	first, out := syncOK(t, cfg)
	rows, cp, _ := pgState(t, dsn)
	if diff := cmp.Diff(exampletest.ByID(api.Records()), rows); diff != "" {
		t.Errorf("table differs from the dataset (-dataset +table):\n%s", diff)
	}
	if first.Items != 1000 || cp != first.Checkpoint || !strings.Contains(out, `Resulting table "user"`) {
		t.Errorf("first run: %d items, checkpoint %+v (result says %+v); want 1000, the same\n%s", first.Items, cp, first.Checkpoint, out)
	}

	before := api.Records()
	api.Requests()
	var want []string
	for _, u := range api.Update(10) {
		want = append(want, u.ID)
	}
	for _, u := range before {
		if u.UpdatedAt.Format(sinceLayout) == first.Checkpoint.HighWater && !slices.Contains(want, u.ID) {
			want = append(want, u.ID)
		}
	}
	slices.Sort(want)
	second, _ := syncOK(t, cfg)
	if diff := cmp.Diff(want, exampletest.ServedIDs(api.Requests())); diff != "" {
		t.Errorf("records fetched by the incremental run (-want +got):\n%s", diff)
	}
	if second.Items != int64(len(want)) {
		t.Errorf("incremental run upserted %d, want %d", second.Items, len(want))
	}
	rows, _, _ = pgState(t, dsn)
	if diff := cmp.Diff(exampletest.ByID(api.Records()), rows); diff != "" {
		t.Errorf("table differs from the updated dataset (-dataset +table):\n%s", diff)
	}
}

// TestCrashPostgres is TestCrash against PostgreSQL.
func TestCrashPostgres(t *testing.T) {
	base := pgDSN(t)
	crashTest(t, func(int) crashDest {
		dsn := pgFresh(t, base)
		return crashDest{
			args:  []string{"-postgres", dsn},
			state: func(t *testing.T) ([]mockapi.User, paginate.Checkpoint, bool) { return pgState(t, dsn) },
		}
	})
}
