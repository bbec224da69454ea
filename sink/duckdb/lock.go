package duckdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrLocked reports a stream that another writer holds: another Sink of
// this process, or another process that has the database file open (DuckDB
// lets one process at a time write a file). errors.Is(err, ErrLocked) is
// true for a *LockedError.
var ErrLocked = errors.New("duckdb: stream is locked by another writer")

// LockedError is the error for a stream, or a whole database file, that
// another writer holds.
type LockedError struct {
	// Stream is the stream asked for; empty when the database file itself
	// is held by another process.
	Stream string
	// Path is the database file.
	Path string
	// PID is the process that holds the lock, when DuckDB says; it is
	// this process's own for another Sink of it, and -1 when unknown.
	PID int
}

func (e *LockedError) Error() string {
	what := fmt.Sprintf("database %s is open in another process", e.Path)
	if e.Stream != "" {
		what = fmt.Sprintf("stream %q of %s is locked by another writer", e.Stream, e.Path)
	}
	s := "duckdb: " + what
	switch {
	case e.PID == os.Getpid():
		s += " (another Sink of this process)"
	case e.PID > 0:
		s += fmt.Sprintf(" (process %d)", e.PID)
	}
	return s
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Stream locks. DuckDB keeps other processes out of a database file that
// one has open, so the locks between sinks are those of one process: a
// table of the streams its sinks hold, by database and state table.
var (
	lockMu sync.Mutex
	held   = make(map[streamKey]bool)
)

type streamKey struct{ db, state, stream string }

// streamLocks are the stream locks of one Sink.
type streamLocks struct {
	db    string // the database file, or a name of the in-memory database
	path  string // for messages
	state string
	wait  bool
	mine  map[string]bool
}

func (l *streamLocks) lock(ctx context.Context, stream string) error {
	if l.mine[stream] {
		return nil
	}
	k := streamKey{l.db, l.state, stream}
	wait := 10 * time.Millisecond
	for {
		lockMu.Lock()
		taken := held[k]
		if !taken {
			held[k] = true
		}
		lockMu.Unlock()
		if !taken {
			if l.mine == nil {
				l.mine = make(map[string]bool)
			}
			l.mine[stream] = true
			return nil
		}
		if !l.wait {
			return &LockedError{Stream: stream, Path: l.path, PID: os.Getpid()}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("duckdb: wait for the lock of stream %q: %w", stream, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

func (l *streamLocks) unlock(stream string) {
	if !l.mine[stream] {
		return
	}
	delete(l.mine, stream)
	lockMu.Lock()
	delete(held, streamKey{l.db, l.state, stream})
	lockMu.Unlock()
}

func (l *streamLocks) unlockAll() {
	for s := range l.mine {
		l.unlock(s)
	}
}
