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

// TestCancelWhileWriting ends a commit's context while the page's rows are
// being written (a trigger makes each statement take 300 ms), on each of
// the three ways a page goes: in one pipelined round trip, through COPY,
// and in a transaction that a job queue completes its job in (CommitTx).
// The page runs to its end: the commit succeeds, and the sink, its
// connection and its stream lock, goes on with the next page. Abandoned
// mid-statement, the connection would close, and with it the sink: a River
// worker whose job timed out during a write then failed every later job
// with ErrConnLost.
func TestCancelWhileWriting(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows int
		tx   bool
	}{
		{"pipelined", 10, false},
		{"copy", 3500, false},
		{"CommitTx", 10, true},
		{"CommitTx copy", 3500, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, nsp := testDB(t)
			s := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
			bg := context.Background()
			if err := s.Commit(bg, usertest.Generate(1, 1), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 1}}); err != nil {
				t.Fatal(err)
			}
			slow := fmt.Sprintf(`CREATE FUNCTION %[1]q.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$;
				CREATE TRIGGER slow AFTER INSERT OR UPDATE ON %[1]q."user" FOR EACH STATEMENT EXECUTE FUNCTION %[1]q.slow()`, nsp)
			if _, err := pool.Exec(bg, slow); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
			defer cancel()
			cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
			var err error
			if tc.tx {
				err = s.CommitTx(ctx, usertest.Generate(tc.rows, 2), cp, func(context.Context, pgx.Tx) error { return nil })
			} else {
				err = s.Commit(ctx, usertest.Generate(tc.rows, 2), cp)
			}
			if err != nil {
				t.Errorf("a commit whose context ended while its page was written: %v; want the page committed", err)
			}
			if err := s.Commit(bg, usertest.Generate(1, 3), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}); err != nil {
				t.Errorf("the next commit: %v; want the sink still usable", err)
			}
		})
	}
}
