package parquet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// ManifestName is the name of a table's manifest in its storage.
const ManifestName = "_manifest.json"

// Manifest is what a table's manifest holds: the committed files, in
// commit order, and the checkpoint of each stream written into the table.
// A file that the manifest does not list is not part of the table.
type Manifest struct {
	// Version is the manifest format, 1.
	Version int `json:"version"`
	// Table is the table's schema, with the columns every file may have
	// (an older file lacks the columns added after it was written).
	Table schema.Table `json:"table"`
	// DecimalScale is the scale of the table's DECIMAL columns.
	DecimalScale int `json:"decimal_scale"`
	// Seq is the last commit's sequence number; 0 before the first.
	Seq int64 `json:"seq"`
	// Files are the committed files, oldest first.
	Files []FileInfo `json:"files"`
	// Checkpoints are the streams' checkpoints, by stream.
	Checkpoints map[string]paginate.Checkpoint `json:"checkpoints,omitempty"`
}

// FileInfo describes a committed file.
type FileInfo struct {
	// Name is the file's name in the table's storage,
	// <seq>-<uuid>.parquet with the commit's sequence number written in
	// 20 digits, so that names sort in commit order.
	Name string `json:"name"`
	// Seq is the commit that wrote the file; every row in it has this
	// _pagekit_seq, except in a compacted file, whose rows keep theirs.
	Seq int64 `json:"seq"`
	// Rows is the number of rows in the file.
	Rows int64 `json:"rows"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Compacted marks a file written by Compact: the table as of Seq.
	Compacted bool `json:"compacted,omitempty"`
}

// ReadManifest returns the manifest of the table in st; found is false
// when the table has none yet.
func ReadManifest(ctx context.Context, st Storage) (m Manifest, found bool, err error) {
	b, err := st.Read(ctx, ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, false, nil
	}
	if err != nil {
		return Manifest{}, false, fmt.Errorf("parquet: read the manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, false, fmt.Errorf("parquet: the manifest is not valid: %w", err)
	}
	if m.Version != 1 {
		return Manifest{}, false, fmt.Errorf("parquet: manifest version %d, want 1", m.Version)
	}
	return m, true, nil
}

// FileNames returns the names of the committed files, oldest first.
func (m Manifest) FileNames() []string {
	names := make([]string, len(m.Files))
	for i, f := range m.Files {
		names[i] = f.Name
	}
	return names
}

func (m *Manifest) write(ctx context.Context, st Storage) error {
	b, err := json.MarshalIndent(m, "", "\t")
	if err != nil {
		return err
	}
	if err := st.Replace(ctx, ManifestName, append(b, '\n')); err != nil {
		return fmt.Errorf("parquet: write the manifest: %w", err)
	}
	return nil
}

// clone returns a copy of m that shares nothing m changes.
func (m *Manifest) clone() Manifest {
	c := *m
	c.Files = append([]FileInfo(nil), m.Files...)
	c.Checkpoints = make(map[string]paginate.Checkpoint, len(m.Checkpoints))
	for k, v := range m.Checkpoints {
		c.Checkpoints[k] = v
	}
	return c
}
