package sqlite

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sync"
	"time"
)

// ErrLocked reports a stream that another writer holds: another process
// syncing the same stream into the same database file, or another Sink of
// this process. errors.Is(err, ErrLocked) is true for a *LockedError.
var ErrLocked = errors.New("sqlite: stream is locked by another writer")

// LockedError is the error for a stream another writer holds.
type LockedError struct {
	// Stream is the stream asked for.
	Stream string
	// Path is the database file.
	Path string
	// PID is the process that holds the lock, when the system says; it
	// is this process's own for another Sink of it.
	PID int
}

func (e *LockedError) Error() string {
	s := fmt.Sprintf("sqlite: stream %q of %s is locked by another writer", e.Stream, e.Path)
	switch {
	case e.PID == os.Getpid():
		s += " (another Sink of this process)"
	case e.PID != 0:
		s += fmt.Sprintf(" (process %d)", e.PID)
	}
	return s
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Stream locks. Two writers of one stream would interleave their pages
// and move each other's checkpoint backwards, so a Sink takes the lock of
// a stream before it loads, saves or commits its checkpoint, and keeps it
// until Close. The lock is a one-byte advisory record lock (fcntl) on a
// file beside the database, "<database>-pagekit.lock", at an offset hashed
// from the state table and the stream: the system releases it when the
// process ends, kill -9 included. POSIX record locks belong to a process,
// not to a file descriptor, so the process keeps one descriptor per lock
// file and a table of the offsets its sinks hold.

// lockFile is this process's hold on one lock file.
type lockFile struct {
	f    *os.File
	refs int            // sinks that use the file
	held map[int64]bool // offsets some sink of this process holds
}

var (
	lockMu    sync.Mutex
	lockFiles = make(map[string]*lockFile)
)

// lockPath returns the lock file of the database at path.
func lockPath(db string) string { return db + "-pagekit.lock" }

// streamLocks are the stream locks of one Sink.
type streamLocks struct {
	path  string // the lock file; empty when the database has no file
	db    string
	state string
	wait  bool
	held  map[string]int64 // stream -> offset
	file  *lockFile
}

func (l *streamLocks) key(stream string) int64 {
	h := fnv.New64a()
	h.Write([]byte("pagekit stream\x00"))
	h.Write([]byte(l.state))
	h.Write([]byte{0})
	h.Write([]byte(stream))
	return int64(h.Sum64() >> 2) // an offset: positive, with room for its byte
}

// lock takes the lock of stream, waiting for it when asked to.
func (l *streamLocks) lock(ctx context.Context, stream string) error {
	if _, ok := l.held[stream]; ok || l.path == "" {
		return nil
	}
	key := l.key(stream)
	wait := 10 * time.Millisecond
	for {
		pid, err := l.try(key)
		if err != nil {
			return fmt.Errorf("sqlite: lock stream %q: %w", stream, err)
		}
		if pid == 0 {
			if l.held == nil {
				l.held = make(map[string]int64)
			}
			l.held[stream] = key
			return nil
		}
		if !l.wait {
			return &LockedError{Stream: stream, Path: l.db, PID: max(pid, 0)}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sqlite: wait for the lock of stream %q: %w", stream, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// try takes the lock at key. It returns 0 when it got it, or the process
// that holds it.
func (l *streamLocks) try(key int64) (int, error) {
	lockMu.Lock()
	defer lockMu.Unlock()
	if l.file == nil {
		lf := lockFiles[l.path]
		if lf == nil {
			f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				return 0, err
			}
			lf = &lockFile{f: f, held: make(map[int64]bool)}
			lockFiles[l.path] = lf
		}
		lf.refs++
		l.file = lf
	}
	if l.file.held[key] {
		return os.Getpid(), nil
	}
	pid, err := lockRange(l.file.f, key)
	if err != nil || pid != 0 {
		return pid, err
	}
	l.file.held[key] = true
	return 0, nil
}

// unlock releases the lock of stream, if held.
func (l *streamLocks) unlock(stream string) error {
	key, ok := l.held[stream]
	if !ok {
		return nil
	}
	lockMu.Lock()
	defer lockMu.Unlock()
	delete(l.held, stream)
	delete(l.file.held, key)
	return unlockRange(l.file.f, key)
}

// unlockAll releases the sink's locks, and the lock file when no sink of
// the process uses it any more.
func (l *streamLocks) unlockAll() error {
	lockMu.Lock()
	defer lockMu.Unlock()
	if l.file == nil {
		return nil
	}
	var errs []error
	for _, key := range l.held {
		delete(l.file.held, key)
		errs = append(errs, unlockRange(l.file.f, key))
	}
	l.held = nil
	l.file.refs--
	if l.file.refs == 0 {
		delete(lockFiles, l.path)
		errs = append(errs, l.file.f.Close())
	}
	l.file = nil
	return errors.Join(errs...)
}
