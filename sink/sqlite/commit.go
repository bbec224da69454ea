package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Write applies the records of items in one transaction, without a
// checkpoint. A bad record fails the whole page with a
// *schema.RecordError before anything is written.
func (s *Sink[T]) Write(ctx context.Context, items []T) error {
	return s.apply(ctx, items, nil, nil)
}

// Commit applies the records of items and saves cp in one transaction:
// after a crash either both are in the database or neither is.
func (s *Sink[T]) Commit(ctx context.Context, items []T, cp paginate.Checkpoint) error {
	return s.apply(ctx, items, &cp, nil)
}

// Save stores cp in the state table.
func (s *Sink[T]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	return s.apply(ctx, nil, &cp, nil)
}

// Load returns the checkpoint saved for stream.
func (s *Sink[T]) Load(ctx context.Context, stream string) (paginate.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return paginate.Checkpoint{}, false, ErrClosed
	}
	if err := s.locks.lock(ctx, stream); err != nil {
		return paginate.Checkpoint{}, false, err
	}
	var text string
	err := s.load.QueryRowContext(ctx, stream).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return paginate.Checkpoint{}, false, nil
	}
	if err != nil {
		return paginate.Checkpoint{}, false, fmt.Errorf("sqlite: load checkpoint of %q: %w", stream, err)
	}
	var cp paginate.Checkpoint
	if err := json.Unmarshal([]byte(text), &cp); err != nil {
		return paginate.Checkpoint{}, false, fmt.Errorf("sqlite: checkpoint of %q is not valid: %w", stream, err)
	}
	cp.Stream = stream
	return cp, true, nil
}

// Lock takes the lock of stream, which Load, Save and Commit take
// themselves: a stream has one writer at a time, across the processes that
// share the database file and the sinks of each. A stream another writer
// holds fails with a *LockedError (errors.Is ErrLocked) naming its
// process, or, with Config.Wait, is waited for. The sink keeps its locks
// until Unlock or Close; the system drops them when the process ends, a
// kill -9 included.
func (s *Sink[T]) Lock(ctx context.Context, stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.locks.lock(ctx, stream)
}

// Unlock releases the lock of stream, if the sink holds it. It makes the
// sink a connector.Unlocker: a connector run releases each stream's and
// partition's lock when its run ends. It does not wait, and ignores ctx.
func (s *Sink[T]) Unlock(_ context.Context, stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.locks.unlock(stream); err != nil {
		return fmt.Errorf("sqlite: unlock stream %q: %w", stream, err)
	}
	return nil
}

// Close releases the sink's connection, statements and stream locks. It
// does not close the database.
func (s *Sink[T]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	errs := []error{s.locks.unlockAll()}
	for _, m := range []map[int]*sql.Stmt{s.upserts, s.careful} {
		for _, st := range m {
			errs = append(errs, st.Close())
		}
	}
	for _, st := range []*sql.Stmt{s.del, s.soft, s.save, s.load, s.begin, s.commitSt, s.rollback, s.saveKeys, s.loadKeys, s.dropKeys} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.conn.Close())
	return errors.Join(errs...)
}

// apply writes one page and, when cp is not nil, its checkpoint, in one
// transaction; inTx, when not nil, runs in it before COMMIT (see
// [Sink.CommitTx]).
func (s *Sink[T]) apply(ctx context.Context, items []T, cp *paginate.Checkpoint, inTx func(context.Context, *sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if cp != nil {
		if err := s.locks.lock(ctx, cp.Stream); err != nil {
			return err
		}
	}
	defer s.release()
	vals, runs, err := s.b.Build(items)
	if err != nil {
		return err
	}
	if len(runs) == 0 && cp == nil {
		return nil
	}
	var cpText []byte
	if cp != nil {
		if cpText, err = json.Marshal(cp); err != nil {
			return fmt.Errorf("sqlite: checkpoint: %w", err)
		}
	}
	tx, err := s.beginTx(ctx, inTx != nil)
	if err != nil {
		return fmt.Errorf("sqlite: table %q: begin: %w", s.table.Name, err)
	}
	err = s.write(ctx, vals, runs)
	if err == nil && cp != nil {
		if _, err = s.save.ExecContext(ctx, cp.Stream, string(cpText), FormatDatetime(time.Now())); err != nil {
			err = fmt.Errorf("sqlite: save checkpoint of %q: %w", cp.Stream, err)
		}
	}
	if err == nil && cp != nil {
		err = s.writeKeys(ctx, cp.Stream)
	}
	if err == nil && tx != nil {
		err = inTx(ctx, tx)
	}
	if err == nil {
		// The driver reports ctx's error for a statement during which ctx
		// ended, even one that completed: a COMMIT that may have landed
		// must not be reported as failed, or the run's result would lag the
		// database by a page. Once BEGIN and the writes went through, the
		// COMMIT runs to its end.
		if err = s.commitTx(ctx, tx); err != nil {
			err = fmt.Errorf("sqlite: table %q: commit: %w", s.table.Name, err)
		}
	}
	if err != nil {
		// An interrupted or failed COMMIT may already have ended the
		// transaction; ROLLBACK then fails with "no transaction is
		// active", which changes nothing.
		if rerr := s.rollbackTx(ctx, tx); rerr != nil && !noTx(rerr) {
			return errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rerr))
		}
		var re *schema.RecordError
		if isConstraint(err) && !errors.As(err, &re) {
			err = s.findRefused(ctx, vals, runs, err)
		}
		return err
	}
	if cp != nil {
		s.pending.Drop(cp.Stream)
	}
	return nil
}

// findRefused names the record whose row a constraint refused with err,
// which ended the page's transaction: it writes the page again in a
// transaction of its own, with statements that undo only themselves and,
// for the one that fails, one row at a time, and rolls it back. It returns
// the *schema.RecordError found, or else err.
func (s *Sink[T]) findRefused(ctx context.Context, vals []schema.Value, runs []batch.Run, err error) error {
	if _, berr := s.begin.ExecContext(ctx); berr != nil {
		return err
	}
	s.finding = true
	ferr := s.write(ctx, vals, runs)
	s.finding = false
	if _, rerr := s.rollback.ExecContext(context.WithoutCancel(ctx)); rerr != nil && !noTx(rerr) {
		return errors.Join(err, fmt.Errorf("sqlite: rollback: %w", rerr))
	}
	var re *schema.RecordError
	if errors.As(ferr, &re) {
		return ferr
	}
	return err
}

// release drops the page's buffers, or their references to its records
// (see batch.Builder.Release).
func (s *Sink[T]) release() {
	s.b.Release()
	clear(s.args)
	s.args = s.args[:0]
}

func noTx(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_ERROR
}

// write applies the runs of a page inside the open transaction.
func (s *Sink[T]) write(ctx context.Context, vals []schema.Value, runs []batch.Run) error {
	nc := len(s.cols)
	for _, r := range runs {
		if r.Op == schema.Upsert {
			for start := 0; start < len(r.Rows); start += s.max {
				if err := s.upsert(ctx, vals, r.Rows[start:min(start+s.max, len(r.Rows))]); err != nil {
					return err
				}
			}
			continue
		}
		st := s.del
		if r.Op == schema.SoftDelete {
			st = s.soft
		}
		for _, row := range r.Rows {
			args := s.args[:0]
			for _, i := range s.keyIdx {
				args = append(args, arg(s.cols[i], &vals[row*nc+i]))
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return s.recordError(vals, row, fmt.Errorf("%v: %w", r.Op, err))
			}
			if err := s.hook(1); err != nil {
				return err
			}
		}
	}
	return nil
}

// upsert inserts or updates rows with one statement.
func (s *Sink[T]) upsert(ctx context.Context, vals []schema.Value, rows []int) error {
	st, err := s.upsertStmt(ctx, len(rows))
	if err != nil {
		return err
	}
	nc := len(s.cols)
	args := s.args[:0]
	for _, row := range rows {
		rv := vals[row*nc : (row+1)*nc]
		for i, t := range s.cols {
			args = append(args, arg(t, &rv[i]))
		}
	}
	s.args = args
	_, err = st.ExecContext(ctx, args...)
	clear(args) // keep no record alive until the next page
	if err != nil {
		if s.finding && isConstraint(err) && len(rows) > 1 {
			// Find the row SQLite refuses, to name it. A careful
			// statement undoes only itself, and the transaction is
			// rolled back anyway.
			for _, row := range rows {
				if e := s.upsert(ctx, vals, []int{row}); e != nil {
					return e
				}
			}
		}
		if len(rows) == 1 {
			return s.recordError(vals, rows[0], err)
		}
		return fmt.Errorf("sqlite: table %q: upsert %d rows: %w", s.table.Name, len(rows), err)
	}
	return s.hook(len(rows))
}

func (s *Sink[T]) hook(rows int) error {
	if s.afterExec != nil {
		return s.afterExec(rows)
	}
	return nil
}

func (s *Sink[T]) recordError(vals []schema.Value, row int, err error) error {
	nc := len(s.cols)
	if isConstraint(err) {
		err = fmt.Errorf("%w: %w", schema.ErrBadValue, err)
	}
	return &schema.RecordError{Table: s.table.Name, Index: row, Key: s.b.Mapping.Key(vals[row*nc : (row+1)*nc]), Err: err}
}

func isConstraint(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// upsertStmt returns the prepared statement for n rows. Pages of one size
// need at most two statements (full batches and the rest); other sizes are
// prepared on demand and a few are kept.
func (s *Sink[T]) upsertStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	stmts := s.upserts
	if s.finding {
		stmts = s.careful
	}
	if st := stmts[n]; st != nil {
		return st, nil
	}
	if len(stmts) >= 16 {
		for k, st := range stmts {
			if k != s.max {
				st.Close()
				delete(stmts, k)
				break
			}
		}
	}
	q := upsertSQL(&s.table, s.deleted, n, s.finding)
	st, err := s.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: table %q: prepare upsert of %d rows: %w", s.table.Name, n, err)
	}
	stmts[n] = st
	return st, nil
}
