package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/postgres"
)

// TestCommitTx checks that what CommitTx's function writes through its
// transaction commits with the page and its checkpoint, or, when the
// function fails, that none of the three does, on both write paths.
func TestCommitTx(t *testing.T) {
	errHook := errors.New("hook refused")
	before := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	after := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Since: "2024"}}
	for _, tc := range []struct {
		name     string
		fail     bool
		wantRows int
		wantCP   paginate.Checkpoint
		wantSide []string
	}{
		{name: "hook commits with the page", wantRows: 510, wantCP: after, wantSide: []string{"done"}},
		{name: "hook error rolls back the page", fail: true, wantRows: 10, wantCP: before},
	} {
		// 3500 rows take the COPY path.
		for _, n := range []int{500, 3500} {
			t.Run(fmt.Sprintf("%s/%d rows", tc.name, n), func(t *testing.T) {
				ctx := context.Background()
				pool, nsp := testDB(t)
				s := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
				if err := s.Commit(ctx, usertest.Generate(10, 3), before); err != nil {
					t.Fatal(err)
				}
				side := `"` + nsp + `".side`
				if _, err := pool.Exec(ctx, "CREATE TABLE "+side+" (v text)"); err != nil {
					t.Fatal(err)
				}
				page := usertest.Generate(n, 4)
				if tc.wantRows != 10 {
					tc.wantRows = 10 + n
				}
				var seen int
				err := s.CommitTx(ctx, page, after, func(ctx context.Context, tx pgx.Tx) error {
					// The hook runs in the page's transaction: it
					// sees the page's rows before they commit.
					if err := tx.QueryRow(ctx, `SELECT count(*) FROM "`+nsp+`"."user"`).Scan(&seen); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, "INSERT INTO "+side+" VALUES ('done')"); err != nil {
						return err
					}
					if tc.fail {
						return errHook
					}
					return nil
				})
				if tc.fail != errors.Is(err, errHook) || !tc.fail && err != nil {
					t.Fatalf("CommitTx: %v, want the hook's error: %v", err, tc.fail)
				}
				if seen != 10+n {
					t.Errorf("the hook saw %d rows, want %d", seen, 10+n)
				}
				if got := len(dump(t, pool, userQuery(nsp))); got != tc.wantRows {
					t.Errorf("%d rows, want %d", got, tc.wantRows)
				}
				cp, _, err := s.Load(ctx, "users")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.wantCP, cp); diff != "" {
					t.Errorf("checkpoint (-want +got):\n%s", diff)
				}
				var got []string
				for _, r := range dump(t, pool, "SELECT v FROM "+side) {
					got = append(got, r[0].(string))
				}
				if diff := cmp.Diff(tc.wantSide, got); diff != "" {
					t.Errorf("the hook's rows (-want +got):\n%s", diff)
				}
				// The sink goes on: a plain commit and a nil hook.
				if err := s.CommitTx(ctx, page[:1], before, nil); err != nil {
					t.Errorf("CommitTx with a nil hook after: %v", err)
				}
			})
		}
	}
}
