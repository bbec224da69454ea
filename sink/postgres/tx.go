package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/pagekit/pagekit/paginate"
)

// CommitTx is [Sink.Commit] with inTx run in the page's transaction, after
// the rows and the checkpoint and before COMMIT: what inTx writes through
// tx commits with the page, or not at all. A job queue uses it to mark a
// job done in the transaction that commits the job's last page, so that a
// crash never leaves the data committed and the job pending, or the other
// way round.
//
// inTx must neither commit nor roll back tx. When it returns an error, the
// whole transaction is rolled back and CommitTx returns that error. A nil
// inTx makes CommitTx a Commit. The page costs two round trips more than a
// Commit: BEGIN and COMMIT are sent on their own.
func (s *Sink[T]) CommitTx(ctx context.Context, items []T, cp paginate.Checkpoint, inTx func(ctx context.Context, tx pgx.Tx) error) error {
	return s.apply(ctx, items, &cp, inTx)
}

// finishTx runs inTx in the open transaction tx, then commits it, under
// apply's ctx, which no cancel ends (see commitContext), so that a page
// that landed is never reported as failed.
func (s *Sink[T]) finishTx(ctx context.Context, tx pgx.Tx, inTx func(context.Context, pgx.Tx) error) error {
	if err := inTx(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail(fmt.Errorf("postgres: table %q: commit: %w", s.table.Name, err))
	}
	return nil
}
