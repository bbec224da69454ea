package parquet

import (
	"context"
	"fmt"

	pq "github.com/parquet-go/parquet-go"
)

// Compact rewrites the table as one file that holds each key's current
// row, and a manifest that lists that file alone, then removes the files
// it replaced. Deleted keys are gone from it; each row keeps the
// _pagekit_seq of the commit that wrote it, and the file is named after a
// commit of its own. The new manifest replaces the old in one step, so a
// reader sees the table before or after, never a mix; a reader that read
// the old manifest and opens a replaced file after its removal gets an
// error that says the file does not exist, and should read the manifest
// again. Checkpoints are kept.
func (s *Sink[T]) Compact(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	cur, err := current(ctx, s.st, &s.m)
	if err != nil {
		return err
	}
	t := &s.m.Table
	sch := fileSchema(t, s.m.DecimalScale)
	lay := newLayout(t, sch, s.m.DecimalScale)
	var rows []pq.Row
	upsert := pq.ByteArrayValue([]byte("upsert"))
	for _, k := range sortedKeys(cur) {
		v := cur[k]
		if v.del {
			continue
		}
		r := make(pq.Row, lay.width)
		r[lay.op] = upsert.Level(0, 0, lay.op)
		r[lay.seq] = pq.Int64Value(v.seq).Level(0, 0, lay.seq)
		for i, c := range t.Columns {
			pv, err := lay.value(i, c.Type, &v.vals[i])
			if err != nil {
				return fmt.Errorf("parquet: compact: %w", err)
			}
			r[lay.leaf[i]] = pv
		}
		rows = append(rows, r)
	}
	next := s.m.clone()
	next.Seq++
	f, err := writeRows(ctx, s.st, sch, s.groups, next.Seq, rows)
	if err != nil {
		return err
	}
	f.Compacted = true
	old := next.Files
	next.Files = []FileInfo{f}
	if err := next.write(ctx, s.st); err != nil {
		_ = s.st.Remove(context.WithoutCancel(ctx), f.Name)
		return err
	}
	s.m = next
	for _, o := range old {
		if err := s.st.Remove(ctx, o.Name); err != nil {
			return fmt.Errorf("parquet: compact: remove %s (the table is compacted; the next writer removes it): %w", o.Name, err)
		}
	}
	return nil
}
