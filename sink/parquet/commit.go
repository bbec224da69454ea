package parquet

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"slices"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
	pq "github.com/parquet-go/parquet-go"
)

// Write applies the records of items as one commit, without a checkpoint.
// A bad record fails the whole page with a *schema.RecordError before
// anything is written.
func (s *Sink[T]) Write(ctx context.Context, items []T) error {
	return s.apply(ctx, items, nil)
}

// Commit applies the records of items and saves cp as one commit: one
// Parquet file and a new manifest that lists it and holds cp. After a
// crash either both are there or neither is: a file whose manifest was not
// written is not part of the table, and is removed by the next writer.
func (s *Sink[T]) Commit(ctx context.Context, items []T, cp paginate.Checkpoint) error {
	return s.apply(ctx, items, &cp)
}

// Save stores cp in the manifest.
func (s *Sink[T]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	return s.apply(ctx, nil, &cp)
}

// Load returns the checkpoint saved for stream. Like Save and Commit, it
// takes the table's lock first (see [Sink.Lock]).
func (s *Sink[T]) Load(ctx context.Context, stream string) (paginate.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return paginate.Checkpoint{}, false, ErrClosed
	}
	if err := s.lock(ctx); err != nil {
		return paginate.Checkpoint{}, false, err
	}
	cp, ok := s.m.Checkpoints[stream]
	cp.Stream = stream
	if !ok {
		return paginate.Checkpoint{}, false, nil
	}
	return cp, true, nil
}

// Lock takes the table's writer lock, which Load, Save, Commit and Write
// take themselves: a table has one writer at a time, for all its streams,
// across processes (a flock of _pagekit.lock in a [Dir]) and the Sinks of
// each. A table another writer holds fails with a *LockedError (errors.Is
// ErrLocked), or, with Config.Wait, is waited for. The sink keeps the lock
// until Close; the system drops it when the process ends, kill -9
// included. The stream argument is there for the interface the other
// sinks share.
func (s *Sink[T]) Lock(ctx context.Context, stream string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.lock(ctx)
}

// Close releases the table's lock.
func (s *Sink[T]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.unlock != nil {
		return s.unlock()
	}
	return nil
}

// Manifest returns the table's manifest as the sink last committed it.
func (s *Sink[T]) Manifest() Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m.clone()
}

func (s *Sink[T]) apply(ctx context.Context, items []T, cp *paginate.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.release()
	vals, runs, err := s.b.Build(items)
	if err != nil {
		return err
	}
	if len(runs) == 0 && cp == nil {
		return nil
	}
	next := s.m.clone()
	if len(runs) > 0 {
		next.Seq++
		if err := s.encode(vals, runs, next.Seq); err != nil {
			return err
		}
		f, err := s.writeFile(ctx, next.Seq, s.rows)
		if err != nil {
			return err
		}
		next.Files = append(next.Files, f)
	}
	if cp != nil {
		next.Checkpoints[cp.Stream] = *cp
	}
	if cp != nil {
		err = s.writeKeys(ctx, cp.Stream, s.pending.Of(cp.Stream))
	}
	if err == nil {
		err = s.hook()
	}
	if err == nil {
		err = next.write(ctx, s.st)
	}
	if err != nil {
		if len(runs) > 0 {
			// Not committed: the next writer would remove it anyway.
			_ = s.st.Remove(context.WithoutCancel(ctx), next.Files[len(next.Files)-1].Name)
		}
		return err
	}
	s.m = next
	if cp != nil {
		s.pending.Drop(cp.Stream)
	}
	return nil
}

func (s *Sink[T]) hook() error {
	if s.beforeManifest != nil {
		return s.beforeManifest()
	}
	return nil
}

// encode builds the rows of a commit's file: for each key, its last
// record of the commit, as an upsert (every column) or a delete (the key
// columns), in the order of those last records.
func (s *Sink[T]) encode(vals []schema.Value, runs []batch.Run, seq int64) error {
	nc := len(s.cols)
	if s.last == nil {
		s.last = make(map[string]int)
	}
	// ops[row] is the row's operation plus one, or 0 for a row a later
	// record of its key supersedes.
	n := len(vals) / max(nc, 1)
	ops := slices.Grow(s.ops[:0], n)[:n]
	clear(ops)
	s.ops = ops
	for _, r := range runs {
		for _, row := range r.Rows {
			if r.Op == schema.SoftDelete {
				return &schema.RecordError{Table: s.table.Name, Index: row, Key: s.b.Mapping.Key(vals[row*nc : (row+1)*nc]),
					Err: fmt.Errorf("%w: soft delete: the Parquet sink keeps a delete as a row with %s = 'delete', after the rows of the key's earlier versions; use schema.Delete", schema.ErrBadOp, OpColumn)}
			}
			var k string
			k, s.buf = batch.Key(vals[row*nc:(row+1)*nc], s.keyIdx, s.table.Columns, s.buf)
			if prev, ok := s.last[k]; ok {
				ops[prev] = 0
			}
			s.last[k] = row
			ops[row] = r.Op + 1
		}
	}
	s.rows = s.rows[:0]
	opUpsert, opDelete := pq.ByteArrayValue([]byte("upsert")), pq.ByteArrayValue([]byte("delete"))
	// One array holds every row's values.
	kept := 0
	for _, op := range ops {
		if op != 0 {
			kept++
		}
	}
	all := slices.Grow(s.cells[:0], kept*s.lay.width)[:kept*s.lay.width]
	s.cells = all
	for row, op1 := range ops {
		if op1 == 0 {
			continue
		}
		op := op1 - 1
		r := pq.Row(all[:s.lay.width:s.lay.width])
		all = all[s.lay.width:]
		opv := opUpsert
		if op == schema.Delete {
			opv = opDelete
		}
		r[s.lay.op] = opv.Level(0, 0, s.lay.op)
		r[s.lay.seq] = pq.Int64Value(seq).Level(0, 0, s.lay.seq)
		for i, t := range s.cols {
			v := &vals[row*nc+i]
			if op == schema.Delete && !isKey(s.keyIdx, i) {
				v = &schema.Value{Null: true}
			}
			pv, err := s.lay.value(i, t, v)
			if err != nil {
				return &schema.RecordError{Table: s.table.Name, Index: row, Key: s.b.Mapping.Key(vals[row*nc : (row+1)*nc]),
					Column: s.table.Columns[i].Name, Err: err}
			}
			r[s.lay.leaf[i]] = pv
		}
		s.rows = append(s.rows, r)
	}
	return nil
}

func isKey(keyIdx []int, i int) bool {
	for _, k := range keyIdx {
		if k == i {
			return true
		}
	}
	return false
}

// writeFile writes rows as the file of commit seq and returns its entry.
func (s *Sink[T]) writeFile(ctx context.Context, seq int64, rows []pq.Row) (FileInfo, error) {
	return writeRows(ctx, s.st, s.fileSch, s.groups, seq, rows)
}

func writeRows(ctx context.Context, st Storage, sch *pq.Schema, groups, seq int64, rows []pq.Row) (FileInfo, error) {
	name := fmt.Sprintf("%020d-%s.parquet", seq, newUUID())
	w, err := st.Create(ctx, name)
	if err != nil {
		return FileInfo{}, fmt.Errorf("parquet: create %s: %w", name, err)
	}
	cw := &counter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	pw := pq.NewWriter(bw, sch, pq.Compression(&pq.Snappy), pq.MaxRowsPerRowGroup(groups))
	_, err = pw.WriteRows(rows)
	if err == nil {
		err = pw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		w.Close() // a file that failed is never committed
		return FileInfo{}, fmt.Errorf("parquet: write %s: %w", name, err)
	}
	if err := w.Close(); err != nil {
		return FileInfo{}, fmt.Errorf("parquet: write %s: %w", name, err)
	}
	return FileInfo{Name: name, Seq: seq, Rows: int64(len(rows)), Size: cw.n}, nil
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// release drops the commit's buffers and their references to its records.
func (s *Sink[T]) release() {
	s.b.Release()
	clear(s.last)
	clear(s.rows)
	clear(s.cells)
	if cap(s.rows) > 1<<16 {
		s.rows, s.cells, s.ops = nil, nil, nil
	}
	s.rows = s.rows[:0]
}
