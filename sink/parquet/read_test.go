package parquet_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/parquet"
)

// compactingOnOpen is a table's Storage whose first Open lets the writer
// compact the table before the file is opened: a reader that has read the
// manifest opens a file that Compact has just replaced and removed.
type compactingOnOpen struct {
	parquet.Storage
	once    sync.Once
	compact func()
}

func (s *compactingOnOpen) Open(ctx context.Context, name string) (parquet.File, error) {
	s.once.Do(s.compact)
	return s.Storage.Open(ctx, name)
}

// TestReadTableDuringCompact: ReadTable sees the table as of one commit
// while the writer goes on, compacting included: a file that a Compact
// removed after ReadTable read the manifest sends it back to the manifest,
// instead of failing with a file that does not exist.
func TestReadTableDuringCompact(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "items")
	s := newSink(t, dir)
	for i := range 3 {
		p := []item{{ID: int64(i), Name: "v1"}, {ID: 0, Name: "zero v" + string(rune('1'+i))}}
		if err := s.Commit(ctx, p, paginate.Checkpoint{Stream: "items", Position: paginate.Position{Page: int64(i + 2)}}); err != nil {
			t.Fatal(err)
		}
	}
	want := names(t, dir)
	st := &compactingOnOpen{Storage: parquet.Dir(dir), compact: func() {
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
	}}
	man, rows, err := parquet.ReadTable(ctx, st)
	if err != nil {
		t.Fatalf("ReadTable while the table is compacted: %v", err)
	}
	var got []any
	for _, r := range rows {
		got = append(got, r["name"])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}
	if len(man.Files) != 1 || !man.Files[0].Compacted {
		t.Errorf("ReadTable returned the manifest %+v, want the compacted one it read the rows of", man)
	}
}
