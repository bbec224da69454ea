package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/pagekit/pagekit/paginate"
)

// CommitTx is [Sink.Commit] with inTx run in the page's transaction, after
// the rows and the checkpoint and before COMMIT: what inTx writes through
// tx commits with the page, or not at all. A job queue uses it to mark a
// job done in the transaction that commits the job's last page, so that a
// crash never leaves the data committed and the job pending, or the other
// way round.
//
// The transaction is a *sql.Tx of the sink's connection; with a database
// from [Open] it begins IMMEDIATE, as every page does. inTx must neither
// commit nor roll back tx. When it returns an error, the whole transaction
// is rolled back and CommitTx returns that error. A nil inTx makes
// CommitTx a Commit.
func (s *Sink[T]) CommitTx(ctx context.Context, items []T, cp paginate.Checkpoint, inTx func(ctx context.Context, tx *sql.Tx) error) error {
	return s.apply(ctx, items, &cp, inTx)
}

// beginTx begins a page's transaction: a *sql.Tx when asTx, for CommitTx,
// or else the sink's prepared BEGIN IMMEDIATE, and a nil Tx. The Tx is not
// bound to ctx, so that database/sql does not roll it back on its own when
// ctx ends after its COMMIT started.
func (s *Sink[T]) beginTx(ctx context.Context, asTx bool) (*sql.Tx, error) {
	if asTx {
		return s.conn.BeginTx(context.WithoutCancel(ctx), nil)
	}
	_, err := s.begin.ExecContext(ctx)
	return nil, err
}

// commitTx commits the page's transaction, tx or the sink's own.
func (s *Sink[T]) commitTx(ctx context.Context, tx *sql.Tx) error {
	if tx != nil {
		return tx.Commit()
	}
	_, err := s.commitSt.ExecContext(context.WithoutCancel(ctx))
	return err
}

// rollbackTx rolls the page's transaction back, tx or the sink's own.
func (s *Sink[T]) rollbackTx(ctx context.Context, tx *sql.Tx) error {
	if tx != nil {
		err := tx.Rollback()
		if !errors.Is(err, sql.ErrTxDone) {
			return err
		}
		// A failed tx.Commit ends the Tx, but may leave the
		// transaction open on the connection: roll that back too.
	}
	_, err := s.rollback.ExecContext(context.WithoutCancel(ctx))
	return err
}
