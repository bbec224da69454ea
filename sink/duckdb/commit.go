package duckdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
)

// Write applies the records of items in one transaction, without a
// checkpoint. A bad record fails the whole page with a *schema.RecordError
// before anything is written.
func (s *Sink[T]) Write(ctx context.Context, items []T) error {
	return s.apply(ctx, items, nil)
}

// Commit applies the records of items and saves cp in one transaction:
// after a crash either both are in the database or neither is.
func (s *Sink[T]) Commit(ctx context.Context, items []T, cp paginate.Checkpoint) error {
	return s.apply(ctx, items, &cp)
}

// Save stores cp in the state table.
func (s *Sink[T]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	return s.apply(ctx, nil, &cp)
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
		return paginate.Checkpoint{}, false, fmt.Errorf("duckdb: load checkpoint of %q: %w", stream, err)
	}
	var cp paginate.Checkpoint
	if err := json.Unmarshal([]byte(text), &cp); err != nil {
		return paginate.Checkpoint{}, false, fmt.Errorf("duckdb: checkpoint of %q is not valid: %w", stream, err)
	}
	cp.Stream = stream
	return cp, true, nil
}

// Lock takes the lock of stream, which Load, Save and Commit take
// themselves: a stream has one writer at a time. Another Sink of this
// process that holds it fails the call with a *LockedError (errors.Is
// ErrLocked), or, with Config.Wait, is waited for; another process cannot
// open the database file at all while this one has it (see [Open]). The
// sink keeps its locks until Unlock or Close.
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
	s.locks.unlock(stream)
	return nil
}

// Close releases the sink's connection, appenders and stream locks. It
// does not close the database.
func (s *Sink[T]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.locks.unlockAll()
	errs := []error{s.dropAppenders()}
	for _, st := range []*sql.Stmt{s.save, s.load} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.conn.Close())
	return errors.Join(errs...)
}

// apply writes one page and, when cp is not nil, its checkpoint, in one
// transaction.
func (s *Sink[T]) apply(ctx context.Context, items []T, cp *paginate.Checkpoint) error {
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
	if err := s.encode(vals, len(items)); err != nil {
		return err
	}
	var cpText []byte
	if cp != nil {
		if cpText, err = json.Marshal(cp); err != nil {
			return fmt.Errorf("duckdb: checkpoint: %w", err)
		}
	}
	if _, err := s.conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("duckdb: table %q: begin: %w", s.table.Name, err)
	}
	err = s.write(ctx, vals, runs, false)
	if err == nil && cp != nil {
		if _, err = s.save.ExecContext(ctx, cp.Stream, string(cpText), time.Now().UTC()); err != nil {
			err = fmt.Errorf("duckdb: save checkpoint of %q: %w", cp.Stream, err)
		}
	}
	if err == nil && cp != nil {
		err = s.writeKeys(ctx, cp.Stream)
	}
	if err == nil {
		// Once the writes went through, the COMMIT runs to its end even
		// when ctx ends: a commit that may have landed must not be
		// reported as failed.
		if _, err = s.conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
			err = fmt.Errorf("duckdb: table %q: commit: %w", s.table.Name, err)
		}
	}
	if err != nil {
		if rerr := s.rollback(ctx); rerr != nil {
			return errors.Join(err, rerr)
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

// rollback ends a failed page's transaction and the appenders' rows. A
// COMMIT that failed has already ended the transaction; ROLLBACK then
// fails with "no transaction is active", which changes nothing.
func (s *Sink[T]) rollback(ctx context.Context) error {
	derr := s.dropAppenders()
	_, err := s.conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	if err != nil && !noTx(err) {
		return errors.Join(fmt.Errorf("duckdb: rollback: %w", err), derr)
	}
	return nil
}

func noTx(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no transaction is active") || strings.Contains(msg, "not in a transaction")
}

// encode turns the page's values into the appenders', before the
// transaction begins, so that a value DuckDB cannot hold exactly fails the
// page with nothing written.
func (s *Sink[T]) encode(vals []schema.Value, rows int) error {
	nc := len(s.cols)
	s.vals = s.vals[:0]
	for r := range rows {
		for i, t := range s.cols {
			v, err := s.enc.value(t, &vals[r*nc+i])
			if err != nil {
				return &schema.RecordError{Table: s.table.Name, Index: r, Key: s.b.Mapping.Key(vals[r*nc : (r+1)*nc]),
					Column: s.table.Columns[i].Name, Err: err}
			}
			s.vals = append(s.vals, v)
		}
	}
	return nil
}

// write applies the runs of a page inside the open transaction, a run
// through its appender and one flush. one flushes every row on its own, to
// find the row DuckDB refuses.
func (s *Sink[T]) write(ctx context.Context, vals []schema.Value, runs []batch.Run, one bool) error {
	nc := len(s.cols)
	for _, r := range runs {
		a, err := s.appender(r.Op)
		if err != nil {
			return err
		}
		for n, row := range r.Rows {
			rv := s.vals[row*nc : (row+1)*nc]
			if r.Op != schema.Upsert {
				s.keys = s.keys[:0]
				for _, i := range s.keyIdx {
					s.keys = append(s.keys, rv[i])
				}
				rv = s.keys
			}
			if err := a.AppendRow(rv...); err != nil {
				return s.recordError(vals, row, fmt.Errorf("%v: %w", r.Op, err))
			}
			if one || n == len(r.Rows)-1 {
				if err := a.FlushWithCancel(ctx); err != nil {
					if one {
						return s.recordError(vals, row, fmt.Errorf("%v: %w", r.Op, err))
					}
					return fmt.Errorf("duckdb: table %q: %v of %d rows: %w", s.table.Name, r.Op, len(r.Rows), err)
				}
				if err := s.hook(len(r.Rows)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// findRefused names the record whose row a constraint refused with err:
// it writes the page again in a transaction of its own, flushing one row
// at a time, and rolls it back. It returns the *schema.RecordError found,
// or else err.
func (s *Sink[T]) findRefused(ctx context.Context, vals []schema.Value, runs []batch.Run, err error) error {
	if _, berr := s.conn.ExecContext(ctx, "BEGIN TRANSACTION"); berr != nil {
		return err
	}
	ferr := s.write(ctx, vals, runs, true)
	if rerr := s.rollback(ctx); rerr != nil {
		return errors.Join(err, rerr)
	}
	var re *schema.RecordError
	if errors.As(ferr, &re) {
		return ferr
	}
	return err
}

func (s *Sink[T]) hook(rows int) error {
	if s.afterFlush != nil {
		return s.afterFlush(rows)
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

// release drops the page's buffers, or their references to its records.
func (s *Sink[T]) release() {
	s.b.Release()
	if cap(s.vals) > 1<<16 {
		s.vals = nil
	} else {
		clear(s.vals)
		s.vals = s.vals[:0]
	}
	clear(s.keys)
}
