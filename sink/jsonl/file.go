package jsonl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"sync"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/keypage"
)

// ErrDataChanged reports a data file that is shorter than its checkpoint
// file says: something other than its File changed it. Delete both files
// to start over.
var ErrDataChanged = errors.New("jsonl: data file is shorter than its checkpoint says")

var errClosed = errors.New("jsonl: file is closed")

// File appends pages of records of type T to a JSON Lines file and keeps
// the checkpoints of its streams in a checkpoint file beside it (the data
// file's path with ".checkpoint.json" added). It is a [paginate.Sink], a
// [paginate.Committer] and a [paginate.KeyStore], so [paginate.Run] commits
// each page and its checkpoint together when the File is passed without a
// separate Options.Store, and a sync with Options.Checks.TrackKeys that
// resumes still knows the keys its earlier runs committed.
//
// The checkpoint file also records the length of the data file after the
// last page written. Open cuts the data file back to that length, so the
// bytes of a page that was being written when the process died are gone,
// and the next run writes the page again: every page is in the file
// exactly once. Only one File at a time may use a path.
//
// The keys of a stream's sync in progress are in a file beside the data
// file (the data file's path with ".", the stream's name as [FileStore]
// writes it, and ".keys" added), written and synced before the checkpoint
// that covers them, and removed when the sync completes.
//
// It is safe for concurrent use.
type File[T any] struct {
	mu      sync.Mutex
	f       *os.File
	path    string
	state   state
	enc     encoder[T]
	pending keypage.Pending
}

// state is the content of a checkpoint file.
type state struct {
	// Size is the length of the data file up to the last page written.
	Size    int64                          `json:"size"`
	Streams map[string]paginate.Checkpoint `json:"streams,omitempty"`
}

// StatePath returns the path of the checkpoint file of the data file at
// path.
func StatePath(path string) string { return path + ".checkpoint.json" }

// Open opens the JSON Lines file at path for appending, creating it if
// needed, and reads its checkpoint file. A data file longer than its
// checkpoint file says is cut back to that length; a shorter one fails with
// ErrDataChanged. A data file without a checkpoint file is kept as it is,
// and pages go after its end.
func Open[T any](path string, cfg Config) (*File[T], error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	fl := &File[T]{f: f, path: path, enc: encoder[T]{cfg: cfg}}
	if err := fl.recover(); err != nil {
		f.Close()
		return nil, fmt.Errorf("jsonl: %s: %w", path, err)
	}
	return fl, nil
}

// recover loads the checkpoint file and cuts the data file back to it.
func (fl *File[T]) recover() error {
	fi, err := fl.f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	b, err := os.ReadFile(StatePath(fl.path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Record the length now, so that a crash during the first page
		// leaves a checkpoint to cut back to.
		fl.state = state{Size: size}
		if err := writeFileAtomic(StatePath(fl.path), mustJSON(fl.state)); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &fl.state); err != nil {
			return fmt.Errorf("checkpoint file %s: %w", StatePath(fl.path), err)
		}
		if size < fl.state.Size {
			return fmt.Errorf("%w (%d bytes, checkpoint at %d)", ErrDataChanged, size, fl.state.Size)
		}
		if size > fl.state.Size {
			if err := fl.f.Truncate(fl.state.Size); err != nil {
				return err
			}
			if err := fl.f.Sync(); err != nil {
				return err
			}
		}
	}
	if fl.state.Streams == nil {
		fl.state.Streams = make(map[string]paginate.Checkpoint)
	}
	_, err = fl.f.Seek(fl.state.Size, io.SeekStart)
	return err
}

func mustJSON(v any) []byte {
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		panic(err) // a state always encodes
	}
	return append(b, '\n')
}

// Write appends the records of items without changing a checkpoint.
func (fl *File[T]) Write(_ context.Context, items []T) error {
	return fl.commit(items, nil)
}

// Commit appends the records of items and saves cp: once it returns, both
// are on disk, and after a crash in between neither is.
func (fl *File[T]) Commit(_ context.Context, items []T, cp paginate.Checkpoint) error {
	return fl.commit(items, &cp)
}

// Save stores cp.
func (fl *File[T]) Save(_ context.Context, cp paginate.Checkpoint) error {
	return fl.commit(nil, &cp)
}

// Load returns the checkpoint last saved for stream.
func (fl *File[T]) Load(_ context.Context, stream string) (paginate.Checkpoint, bool, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	cp, ok := fl.state.Streams[stream]
	return cp, ok, nil
}

// Close closes the data file.
func (fl *File[T]) Close() error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.f == nil {
		return nil
	}
	err := fl.f.Close()
	fl.f = nil
	return err
}

func (fl *File[T]) commit(items []T, cp *paginate.Checkpoint) error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.f == nil {
		return errClosed
	}
	b, err := fl.enc.encode(items)
	if err != nil {
		return err
	}
	if len(b) == 0 && cp == nil {
		return nil
	}
	next := state{Size: fl.state.Size + int64(len(b)), Streams: maps.Clone(fl.state.Streams)}
	var stream string
	if cp != nil {
		next.Streams[cp.Stream] = *cp
		stream = cp.Stream
	}
	if err := fl.append(b, stream, next); err != nil {
		// Leave the file as the checkpoint file describes it.
		if terr := fl.f.Truncate(fl.state.Size); terr != nil {
			err = errors.Join(err, terr)
		}
		if _, serr := fl.f.Seek(fl.state.Size, io.SeekStart); serr != nil {
			err = errors.Join(err, serr)
		}
		return fmt.Errorf("jsonl: %s: %w", fl.path, err)
	}
	fl.state = next
	return nil
}

// append writes b at the end of the data file and syncs it, writes the
// keys waiting for the checkpoint of stream, if any, then saves the state
// that covers them.
func (fl *File[T]) append(b []byte, stream string, next state) error {
	if len(b) > 0 {
		if _, err := fl.f.Write(b); err != nil {
			return err
		}
		if err := fl.f.Sync(); err != nil {
			return err
		}
	}
	if keys := fl.pending.Of(stream); len(keys) > 0 {
		if err := appendKeys(fl.keysPath(stream), keys); err != nil {
			return fmt.Errorf("save the keys of %q: %w", stream, err)
		}
		// Written: a checkpoint saved later covers them, whether or not
		// this one is saved.
		fl.pending.Drop(stream)
	}
	return writeFileAtomic(StatePath(fl.path), mustJSON(next))
}

// SaveKeys keeps the key hashes of a page of the stream's sync in
// progress, to be written with the stream's next checkpoint.
func (fl *File[T]) SaveKeys(_ context.Context, stream string, items int64, keys []uint64) error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.f == nil {
		return errClosed
	}
	fl.pending.Add(stream, items, keys)
	return nil
}

// LoadKeys returns the key hashes of the stream's sync saved with items of
// at most upTo, and forgets the others.
func (fl *File[T]) LoadKeys(_ context.Context, stream string, upTo int64) ([]uint64, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.f == nil {
		return nil, errClosed
	}
	// Pages still waiting belong to commits that did not complete.
	fl.pending.Drop(stream)
	keys, err := loadKeys(fl.keysPath(stream), upTo)
	if err != nil {
		return nil, fmt.Errorf("jsonl: %s: load the keys of %q: %w", fl.path, stream, err)
	}
	return keys, nil
}

// keysPath returns the path of the file of the keys of stream's sync in
// progress.
func (fl *File[T]) keysPath(stream string) string {
	return fl.path + "." + fileName(stream) + ".keys"
}

var (
	_ paginate.Committer[int] = (*File[int])(nil)
	_ paginate.KeyStore       = (*File[int])(nil)
	_ paginate.KeyStore       = (*FileStore)(nil)
)
