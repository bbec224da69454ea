package jsonl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/keypage"
)

// FileStore is a [paginate.Store] that keeps each stream's checkpoint in
// its own JSON file in Dir, replaced atomically on every Save. The file of
// a stream is its name with bytes other than letters, digits, '-' and '_'
// written as %XX, and ".json" added. Processes may share a directory as
// long as each stream has one writer.
//
// It is also a [paginate.KeyStore]: the keys of a stream's sync in progress
// are in a file beside its checkpoint file, whose name ends in ".keys"
// instead of ".json", written and synced before the checkpoint that covers
// them, and removed when the sync completes.
//
// It is safe for concurrent use; it must not be copied after first use.
type FileStore struct {
	// Dir is the directory of the checkpoint files, created by Save if
	// needed.
	Dir string

	mu      sync.Mutex
	pending keypage.Pending
}

// Path returns the path of the checkpoint file of stream.
func (s *FileStore) Path(stream string) string {
	return filepath.Join(s.Dir, fileName(stream)+".json")
}

// keysPath returns the path of the file of the keys of stream's sync in
// progress.
func (s *FileStore) keysPath(stream string) string {
	return filepath.Join(s.Dir, fileName(stream)+".keys")
}

// fileName returns stream with bytes other than letters, digits, '-' and
// '_' written as %XX, so that no name escapes its directory.
func fileName(stream string) string {
	var b strings.Builder
	for i := 0; i < len(stream); i++ {
		c := stream[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Load returns the checkpoint saved for stream.
func (s *FileStore) Load(_ context.Context, stream string) (paginate.Checkpoint, bool, error) {
	b, err := os.ReadFile(s.Path(stream))
	if errors.Is(err, fs.ErrNotExist) {
		return paginate.Checkpoint{}, false, nil
	}
	if err != nil {
		return paginate.Checkpoint{}, false, fmt.Errorf("jsonl: load checkpoint of %q: %w", stream, err)
	}
	var cp paginate.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return paginate.Checkpoint{}, false, fmt.Errorf("jsonl: checkpoint file %s: %w", s.Path(stream), err)
	}
	cp.Stream = stream
	return cp, true, nil
}

// Save replaces the checkpoint file of cp.Stream atomically, after it has
// written the keys SaveKeys was given for the stream.
func (s *FileStore) Save(_ context.Context, cp paginate.Checkpoint) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("jsonl: %w", err)
	}
	// A stream has one writer, so its pages cannot change while they are
	// written; the lock is not held meanwhile, so that the streams' saves
	// do not wait for each other's writes.
	s.mu.Lock()
	pages := s.pending.Of(cp.Stream)
	s.mu.Unlock()
	if err := appendKeys(s.keysPath(cp.Stream), pages); err != nil {
		return fmt.Errorf("jsonl: save the keys of %q: %w", cp.Stream, err)
	}
	if len(pages) > 0 {
		// Written: a checkpoint saved later covers them, whether or not
		// this one is saved.
		s.mu.Lock()
		s.pending.Drop(cp.Stream)
		s.mu.Unlock()
	}
	if err := writeFileAtomic(s.Path(cp.Stream), mustJSON(cp)); err != nil {
		return fmt.Errorf("jsonl: save checkpoint of %q: %w", cp.Stream, err)
	}
	return nil
}

// SaveKeys keeps the key hashes of a page of the stream's sync in
// progress, to be written before the stream's next checkpoint, in a file
// beside it (the checkpoint file's name with ".keys" for ".json").
func (s *FileStore) SaveKeys(_ context.Context, stream string, items int64, keys []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending.Add(stream, items, keys)
	return nil
}

// LoadKeys returns the key hashes of the stream's sync saved with items of
// at most upTo, and forgets the others.
func (s *FileStore) LoadKeys(_ context.Context, stream string, upTo int64) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Pages still waiting belong to commits that did not complete.
	s.pending.Drop(stream)
	keys, err := loadKeys(s.keysPath(stream), upTo)
	if err != nil {
		return nil, fmt.Errorf("jsonl: load the keys of %q: %w", stream, err)
	}
	return keys, nil
}
