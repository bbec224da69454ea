package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// TestCommitTx checks that what CommitTx's function writes through its
// transaction commits with the page and its checkpoint, or, when the
// function fails, that none of the three does.
func TestCommitTx(t *testing.T) {
	errHook := errors.New("hook refused")
	before := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	after := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Since: "2024"}}
	for _, tc := range []struct {
		name     string
		fail     bool
		wantRows int
		wantCP   paginate.Checkpoint
		wantSide []any
	}{
		{name: "hook commits with the page", wantRows: 510, wantCP: after, wantSide: []any{"done"}},
		{name: "hook error rolls back the page", fail: true, wantRows: 10, wantCP: before},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t)
			s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
			if err := s.Commit(ctx, usertest.Generate(10, 3), before); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("CREATE TABLE side (v TEXT)"); err != nil {
				t.Fatal(err)
			}
			var seen int
			err := s.CommitTx(ctx, usertest.Generate(500, 4), after, func(ctx context.Context, tx *sql.Tx) error {
				// The hook runs in the page's transaction: it sees the
				// page's rows before they commit.
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM "user"`).Scan(&seen); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "INSERT INTO side VALUES ('done')"); err != nil {
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
			if seen != 510 {
				t.Errorf("the hook saw %d rows, want 510", seen)
			}
			if got := len(dump(t, db, "user")); got != tc.wantRows {
				t.Errorf("%d rows, want %d", got, tc.wantRows)
			}
			cp, _, err := s.Load(ctx, "users")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantCP, cp); diff != "" {
				t.Errorf("checkpoint (-want +got):\n%s", diff)
			}
			var side []any
			for _, r := range dump(t, db, "side") {
				side = append(side, r[0])
			}
			if diff := cmp.Diff(tc.wantSide, side); diff != "" {
				t.Errorf("the hook's rows (-want +got):\n%s", diff)
			}
			// The sink goes on: its own transactions, and a nil hook.
			if err := s.Commit(ctx, usertest.Generate(1, 5), before); err != nil {
				t.Errorf("Commit after: %v", err)
			}
			if err := s.CommitTx(ctx, usertest.Generate(1, 6), before, nil); err != nil {
				t.Errorf("CommitTx with a nil hook after: %v", err)
			}
		})
	}
}

// TestOpenBeginsImmediate checks that a transaction begun with BeginTx on
// a database from Open takes the write lock at once, as CommitTx's must: a
// second one waits for the first to end instead of starting a read that
// could fail with SQLITE_BUSY at its first write.
func TestOpenBeginsImmediate(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	first, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	begun := make(chan error, 1)
	go func() {
		second, err := db.BeginTx(ctx, nil)
		if err == nil {
			err = second.Rollback()
		}
		begun <- err
	}()
	select {
	case err := <-begun:
		t.Fatalf("a second transaction began while the first held the write lock (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := first.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-begun; err != nil {
		t.Fatalf("the second transaction, once the first ended: %v", err)
	}
}
