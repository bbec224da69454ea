package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// ErrLocked reports that another session holds the lock of a stream: some
// other worker is running it. Test for it with errors.Is; the error is a
// *[LockedError] that says who holds the lock.
var ErrLocked = errors.New("postgres: stream is locked by another worker")

// LockedError is the error for a stream whose lock another session holds.
type LockedError struct {
	Stream string
	// PID, Application and Client describe the session that holds the
	// lock, when PostgreSQL could tell (pg_stat_activity); PID is 0 when
	// the holder let go before it could be identified.
	PID         int32
	Application string
	Client      string
	Since       time.Time // when the holder's session started
}

// Error says which stream is locked and, when known, by whom.
func (e *LockedError) Error() string {
	s := fmt.Sprintf("postgres: stream %q is locked by another worker", e.Stream)
	if e.PID != 0 {
		s += fmt.Sprintf(" (backend pid %d", e.PID)
		if e.Application != "" {
			s += ", application " + e.Application
		}
		if e.Client != "" {
			s += ", client " + e.Client
		}
		if !e.Since.IsZero() {
			s += ", connected since " + e.Since.UTC().Format(time.RFC3339)
		}
		s += ")"
	}
	return s
}

// Is reports whether target is [ErrLocked].
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockKey returns the advisory lock key of a stream: a hash of the state
// table (streams are names within it) and the stream.
func (s *Sink[T]) lockKey(stream string) int64 {
	h := fnv.New64a()
	h.Write([]byte("pagekit stream\x00"))
	h.Write([]byte(s.stateName))
	h.Write([]byte{0})
	h.Write([]byte(stream))
	return int64(h.Sum64())
}

// Lock takes the session-level advisory lock of stream, so that no other
// worker can run it until Unlock or Close. Load, Save and Commit call it for
// their stream, so a paginate.Run takes the lock when it loads its
// checkpoint. When another session holds the lock, Lock fails with a
// *LockedError, or waits for the lock when Config.Wait is set, until ctx is
// done. Taking a lock the sink already holds does nothing.
func (s *Sink[T]) Lock(ctx context.Context, stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	return s.lock(ctx, stream)
}

func (s *Sink[T]) lock(ctx context.Context, stream string) error {
	if s.locks[stream] {
		return nil
	}
	key := s.lockKey(stream)
	wait := 10 * time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("postgres: wait for the lock of stream %q: %w", stream, err)
		}
		ok, err := s.tryLock(ctx, key)
		if err != nil {
			return s.fail(fmt.Errorf("postgres: lock stream %q: %w", stream, err))
		}
		if ok {
			s.locks[stream] = true
			return nil
		}
		if !s.wait {
			return s.lockedError(ctx, stream, key)
		}
		// Poll rather than block in pg_advisory_lock, so that a
		// cancelled wait leaves the connection usable.
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("postgres: wait for the lock of stream %q: %w", stream, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// pollTimeout bounds one brief query once it is sent.
const pollTimeout = 10 * time.Second

// briefContext returns the context of a query that never waits on another
// session (a try for a lock, a look at who holds one, the load of a
// checkpoint, an unlock): not ctx, since pgx
// closes the connection when a context ends while its query is in flight,
// which would leave the sink unusable whenever a deadline lands during a
// poll, but a context with ctx's values bounded by pollTimeout. Callers
// check ctx before they send.
func briefContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), pollTimeout)
}

// tryLock asks once for the advisory lock key, without waiting for it.
func (s *Sink[T]) tryLock(ctx context.Context, key int64) (bool, error) {
	qctx, cancel := briefContext(ctx)
	defer cancel()
	var ok bool
	err := s.conn.QueryRow(qctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok)
	return ok, err
}

// lockedError describes the session holding key.
func (s *Sink[T]) lockedError(ctx context.Context, stream string, key int64) error {
	e := &LockedError{Stream: stream}
	if ctx.Err() != nil {
		return e
	}
	qctx, cancel := briefContext(ctx)
	defer cancel()
	var since *time.Time
	err := s.conn.QueryRow(qctx, `SELECT l.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''), a.backend_start
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.classid::int8 = $1 AND l.objid::int8 = $2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		LIMIT 1`, int64(uint64(key)>>32), int64(uint64(key)&0xffffffff)).Scan(&e.PID, &e.Application, &e.Client, &since)
	if err == nil && since != nil {
		e.Since = *since
	}
	return e
}

// Unlock releases the lock of stream, if the sink holds it.
func (s *Sink[T]) Unlock(ctx context.Context, stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if !s.locks[stream] {
		return nil
	}
	qctx, cancel := briefContext(ctx)
	defer cancel()
	if _, err := s.conn.Exec(qctx, "SELECT pg_advisory_unlock($1)", s.lockKey(stream)); err != nil {
		return s.fail(fmt.Errorf("postgres: unlock stream %q: %w", stream, err))
	}
	delete(s.locks, stream)
	return nil
}
