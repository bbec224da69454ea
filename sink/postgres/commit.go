package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
)

// Write applies the records of items in one transaction, without a
// checkpoint and without a stream lock. A bad record fails the whole page
// with a *schema.RecordError before anything is sent.
func (s *Sink[T]) Write(ctx context.Context, items []T) error {
	return s.apply(ctx, items, nil, nil)
}

// Commit applies the records of items and saves cp in one transaction,
// holding the lock of cp.Stream: after a crash either both are in the
// database or neither is.
func (s *Sink[T]) Commit(ctx context.Context, items []T, cp paginate.Checkpoint) error {
	return s.apply(ctx, items, &cp, nil)
}

// Save stores cp, holding the lock of cp.Stream.
func (s *Sink[T]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	return s.apply(ctx, nil, &cp, nil)
}

// Load takes the lock of stream (see [Sink.Lock]) and returns the
// checkpoint saved for it.
func (s *Sink[T]) Load(ctx context.Context, stream string) (paginate.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return paginate.Checkpoint{}, false, err
	}
	if err := s.lock(ctx, stream); err != nil {
		return paginate.Checkpoint{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return paginate.Checkpoint{}, false, fmt.Errorf("postgres: load checkpoint of %q: %w", stream, err)
	}
	qctx, cancel := briefContext(ctx)
	defer cancel()
	var text string
	err := s.conn.QueryRow(qctx, s.q.load, stream).Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return paginate.Checkpoint{}, false, nil
	}
	if err != nil {
		return paginate.Checkpoint{}, false, s.fail(fmt.Errorf("postgres: load checkpoint of %q: %w", stream, err))
	}
	var cp paginate.Checkpoint
	if err := json.Unmarshal([]byte(text), &cp); err != nil {
		return paginate.Checkpoint{}, false, fmt.Errorf("postgres: checkpoint of %q is not valid: %w", stream, err)
	}
	cp.Stream = stream
	return cp, true, nil
}

// copyRows is the size of an upsert run from which COPY is faster than an
// array statement (see docs/performance.md).
const copyRows = 3000

// apply writes one page and, when cp is not nil, its checkpoint, in one
// transaction; inTx, when not nil, runs in it before COMMIT (see
// [Sink.CommitTx]).
func (s *Sink[T]) apply(ctx context.Context, items []T, cp *paginate.Checkpoint, inTx func(context.Context, pgx.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	defer s.release()
	vals, runs, err := s.b.Build(items)
	if err != nil {
		return err
	}
	var cpText []byte
	if cp != nil {
		if cpText, err = json.Marshal(cp); err != nil {
			return fmt.Errorf("postgres: checkpoint: %w", err)
		}
		if err := s.lock(ctx, cp.Stream); err != nil {
			return err
		}
	} else if len(runs) == 0 {
		return nil
	}
	// Once its first statement is sent, a page runs to its end whatever
	// happens to ctx, within commitTimeout: pgx closes the connection when
	// a context ends while a statement is in flight, which would take the
	// sink, its stream locks and the session a job queue's transaction is
	// on with it, for a page that needed milliseconds more.
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: table %q: %w", s.table.Name, err)
	}
	ctx, cancel := commitContext(ctx)
	defer cancel()
	useCopy := false
	for _, r := range runs {
		useCopy = useCopy || r.Op == schema.Upsert && len(r.Rows) >= s.copyRows
	}
	var tx pgx.Tx
	if inTx != nil {
		if tx, err = s.conn.Begin(ctx); err != nil {
			return s.fail(fmt.Errorf("postgres: table %q: begin: %w", s.table.Name, err))
		}
	}
	var failed int
	if useCopy {
		failed, err = s.writeCopy(ctx, vals, runs, cp, cpText, tx != nil)
	} else {
		failed, err = s.writePipelined(ctx, vals, runs, cp, cpText, tx != nil)
	}
	if err == nil && tx != nil {
		err = s.finishTx(ctx, tx, inTx)
	}
	if err == nil {
		s.committed(cp)
		return nil
	}
	if s.conn.IsClosed() {
		err = s.fail(err)
		if cp != nil && s.settle(ctx, cp, cpText) {
			s.committed(cp)
			return nil // the page committed before the connection went
		}
		return err
	}
	if _, rerr := s.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
		return s.fail(errors.Join(err, fmt.Errorf("postgres: rollback: %w", rerr)))
	}
	if _, ok := err.(*schema.RecordError); !ok && failed >= 0 && errors.Is(err, schema.ErrBadValue) {
		if re := s.locate(ctx, vals, runs, failed); re != nil {
			return re
		}
	}
	return err
}

// committed drops the keys that the commit of cp wrote.
func (s *Sink[T]) committed(cp *paginate.Checkpoint) {
	if cp != nil {
		s.pending.Drop(cp.Stream)
	}
}

// keepBuf is the most bytes of encoded rows the sink keeps for the next
// page; a buffer that one large page grew past it is freed after it.
const keepBuf = 8 << 20

// release drops the page's buffers, or their references to its records
// (see batch.Builder.Release).
func (s *Sink[T]) release() {
	s.b.Release()
	if cap(s.buf) > keepBuf {
		s.buf = nil
	}
	clear(s.params)
	if cap(s.params) > keepBuf/64 {
		s.params = nil
	}
}

// writeCopy writes a page statement by statement, upserting through COPY
// into the temporary table. It returns the index of the run that failed,
// or -1. When open, the transaction is already open and stays so.
func (s *Sink[T]) writeCopy(ctx context.Context, vals []schema.Value, runs []batch.Run, cp *paginate.Checkpoint, cpText []byte, open bool) (int, error) {
	if !open {
		if _, err := s.conn.Exec(ctx, "BEGIN"); err != nil {
			return -1, s.fail(fmt.Errorf("postgres: table %q: begin: %w", s.table.Name, err))
		}
	}
	dirty := false // the temporary table holds rows of an earlier run
	for i, r := range runs {
		var err error
		switch r.Op {
		case schema.Upsert:
			if dirty {
				if _, err := s.conn.Exec(ctx, s.q.truncate); err != nil {
					return -1, fmt.Errorf("postgres: %w", err)
				}
			}
			err = s.upsert(ctx, vals, r.Rows)
			dirty = true
		default:
			// The same prepared statement as the pipelined path.
			var b pgconn.Batch
			s.buf, s.params = s.buf[:0], s.params[:0]
			s.queueRun(&b, vals, r.Op, r.Rows)
			_, err = s.conn.PgConn().ExecBatch(ctx, &b).ReadAll()
		}
		if err != nil {
			if _, ok := err.(*schema.RecordError); !ok {
				err = s.runError(r, s.fail(err))
			}
			return i, err
		}
		if s.afterExec != nil {
			if err := s.afterExec(len(r.Rows)); err != nil {
				return -1, err
			}
		}
	}
	if cp != nil {
		if _, err := s.conn.Exec(ctx, s.q.save, cp.Stream, string(cpText)); err != nil {
			return -1, s.fail(fmt.Errorf("postgres: save checkpoint of %q: %w", cp.Stream, err))
		}
		if err := s.writeKeys(ctx, cp.Stream); err != nil {
			return -1, err
		}
	}
	if open {
		return -1, nil
	}
	if _, err := s.conn.Exec(ctx, "COMMIT"); err != nil {
		return -1, s.fail(fmt.Errorf("postgres: table %q: commit: %w", s.table.Name, err))
	}
	return -1, nil
}

// commitTimeout bounds a page's transaction once its first statement has
// been sent.
const commitTimeout = time.Minute

// commitContext returns the context a page's transaction runs under once
// its first statement is sent: not ctx, whose end would abandon a statement
// in flight (pgx then closes the connection) or a COMMIT the server may
// already have carried out (the sink would report as failed a page the
// database holds), but a context with ctx's values, bounded by
// commitTimeout.
func commitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
}

// settle finds out, after the connection was lost during a commit, whether
// the page's transaction committed: it ends the old session, so that a
// COMMIT still on its way cannot land later, and then compares the stored
// checkpoint with cp. It reports false when it cannot tell.
func (s *Sink[T]) settle(ctx context.Context, cp *paginate.Checkpoint, cpText []byte) bool {
	if s.pool == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	pid := s.conn.PgConn().PID()
	var gone bool
	// pg_terminate_backend waits up to 10 s for the session to end; a
	// session already gone is not found, which is as good.
	if err := s.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)
		OR pg_terminate_backend($1, 10000)`, int32(pid)).Scan(&gone); err != nil || !gone {
		return false
	}
	var same bool
	err := s.pool.QueryRow(ctx, "SELECT checkpoint = $2::text::jsonb FROM "+s.q.state+" WHERE stream = $1",
		cp.Stream, string(cpText)).Scan(&same)
	return err == nil && same
}

func (s *Sink[T]) runError(r batch.Run, err error) error {
	return fmt.Errorf("postgres: table %q: %v of %d rows: %w", s.table.Name, r.Op, len(r.Rows), withDetail(err))
}

// upsert copies rows into the temporary table, then moves them into the
// table with INSERT ... ON CONFLICT DO UPDATE.
func (s *Sink[T]) upsert(ctx context.Context, vals []schema.Value, rows []int) error {
	buf := append(s.buf[:0], copyHeader...)
	buf = appendCopyRows(buf, s.cols, vals, rows)
	buf = binary.BigEndian.AppendUint16(buf, 0xffff) // trailer: -1
	s.buf = buf
	if _, err := s.conn.PgConn().CopyFrom(ctx, bytes.NewReader(buf), s.q.copy); err != nil {
		return s.copyError(vals, rows, err)
	}
	_, err := s.conn.Exec(ctx, s.q.insert)
	return err
}

// copyLine finds the row and column of a COPY error in its context.
var copyLine = regexp.MustCompile(`(?m)^COPY [^,]+, line (\d+)(?:, column ([^:\n]+))?`)

// copyError names the record of a failed COPY when PostgreSQL says which
// line it refused.
func (s *Sink[T]) copyError(vals []schema.Value, rows []int, err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	m := copyLine.FindStringSubmatch(pe.Where)
	if m == nil {
		return err
	}
	line, _ := strconv.Atoi(m[1])
	if line < 1 || line > len(rows) {
		return err
	}
	row := rows[line-1]
	nc := len(s.cols)
	err = withDetail(err)
	if !errors.Is(err, schema.ErrBadValue) {
		err = fmt.Errorf("%w: %w", schema.ErrBadValue, err)
	}
	return &schema.RecordError{Table: s.table.Name, Index: row, Key: s.b.Mapping.Key(vals[row*nc : (row+1)*nc]), Column: m[2], Err: err}
}

// withDetail adds a PostgreSQL error's detail, such as the failing row of
// a constraint, to its message, and marks data errors with
// schema.ErrBadValue.
func withDetail(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.Detail != "" {
		err = fmt.Errorf("%w; %s", err, pe.Detail)
	}
	if class := pe.Code[:2]; class == "22" || class == "23" {
		if !errors.Is(err, schema.ErrBadValue) {
			err = fmt.Errorf("%w: %w", schema.ErrBadValue, err)
		}
	}
	return err
}
