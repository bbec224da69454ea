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

	"github.com/pagekit/pagekit/paginate"
)

// FileStore is a [paginate.Store] that keeps each stream's checkpoint in
// its own JSON file in Dir, replaced atomically on every Save. The file of
// a stream is its name with bytes other than letters, digits, '-' and '_'
// written as %XX, and ".json" added. Processes may share a directory as
// long as each stream has one writer.
type FileStore struct {
	// Dir is the directory of the checkpoint files, created by Save if
	// needed.
	Dir string
}

// Path returns the path of the checkpoint file of stream.
func (s *FileStore) Path(stream string) string {
	var b strings.Builder
	for i := 0; i < len(stream); i++ {
		c := stream[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return filepath.Join(s.Dir, b.String()+".json")
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

// Save replaces the checkpoint file of cp.Stream atomically.
func (s *FileStore) Save(_ context.Context, cp paginate.Checkpoint) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("jsonl: %w", err)
	}
	if err := writeFileAtomic(s.Path(cp.Stream), mustJSON(cp)); err != nil {
		return fmt.Errorf("jsonl: save checkpoint of %q: %w", cp.Stream, err)
	}
	return nil
}
