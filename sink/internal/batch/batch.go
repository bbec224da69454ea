// Package batch turns a page of records into the validated rows and the
// runs of operations that pagekit's database sinks apply in one
// transaction.
package batch

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/pagekit/pagekit/sink/schema"
)

// Run is a stretch of consecutive records of a page with the same
// operation, in page order.
type Run struct {
	Op schema.Op
	// Rows are indexes of rows in the page's values.
	Rows []int
}

// Builder extracts pages of records of type T. It keeps its buffers from
// page to page, so it is not safe for concurrent use.
type Builder[T any] struct {
	Mapping *schema.Mapping[T]
	// Op picks each record's operation; nil means upsert every record.
	Op func(T) schema.Op
	// SoftDelete allows schema.SoftDelete, for a sink that has a deleted
	// column.
	SoftDelete bool
	// Dedupe keeps, within each run of upserts, only the last record of
	// each key, for databases whose upsert cannot touch a row twice in
	// one statement.
	Dedupe bool

	table  schema.Table
	keyIdx []int
	vals   []schema.Value
	runs   []Run
	rows   []int // the rows of every run, run after run
	start  int   // where the open run's rows start in rows
	seen   map[string]int
}

// keepValues is the most values a Builder keeps for the next page: a
// buffer that grew past it for one large page is freed after that page,
// so that a sink does not hold a huge page's worth of memory for its life.
const keepValues = 1 << 16

// Release ends the use of the last Build's results: it drops their
// references to the page's records, so that the page can be collected,
// and frees the buffers that one large page grew past what an ordinary
// page needs. Sinks call it when a page is written or has failed.
func (b *Builder[T]) Release() {
	if cap(b.vals) > keepValues {
		b.vals = nil
	} else {
		clear(b.vals)
		b.vals = b.vals[:0]
	}
	if cap(b.rows) > keepValues {
		b.rows = nil
	}
	if cap(b.runs) > keepValues {
		b.runs = nil
	} else {
		clear(b.runs)
		b.runs = b.runs[:0]
	}
	if len(b.seen) > keepValues {
		b.seen = nil
	} else {
		clear(b.seen)
	}
}

// Retained returns how many values the Builder holds between pages.
func (b *Builder[T]) Retained() int { return cap(b.vals) }

// Columns returns the number of columns of a row.
func (b *Builder[T]) Columns() int {
	b.init()
	return len(b.table.Columns)
}

func (b *Builder[T]) init() {
	if b.keyIdx == nil {
		b.table = b.Mapping.Table()
		b.keyIdx = b.table.KeyIndex()
	}
}

// Build extracts and validates every record of items and groups them into
// runs. The values hold Columns() values a row, row i for items[i]. It
// returns a *schema.RecordError for the first bad record, before the sink
// has written anything. The results are valid until the next Build.
func (b *Builder[T]) Build(items []T) (vals []schema.Value, runs []Run, err error) {
	b.init()
	b.vals, err = b.Mapping.Rows(items, b.vals)
	if err != nil {
		return nil, nil, err
	}
	b.runs = b.runs[:0]
	b.rows = slices.Grow(b.rows[:0], len(items))
	b.start = 0
	for i := range items {
		op := schema.Upsert
		if b.Op != nil {
			op = b.Op(items[i])
		}
		if err := b.checkOp(op, i); err != nil {
			return nil, nil, err
		}
		if n := len(b.runs); n == 0 || b.runs[n-1].Op != op {
			b.closeRun()
			b.runs = append(b.runs, Run{Op: op})
		}
		b.rows = append(b.rows, i)
	}
	b.closeRun()
	return b.vals, b.runs, nil
}

func (b *Builder[T]) checkOp(op schema.Op, i int) error {
	var msg string
	switch op {
	case schema.Upsert, schema.Delete:
		return nil
	case schema.SoftDelete:
		if b.SoftDelete {
			return nil
		}
		msg = "soft delete, but the sink has no deleted column (set its Config.DeletedColumn)"
	default:
		msg = fmt.Sprintf("unknown operation %v", op)
	}
	nc := len(b.table.Columns)
	return &schema.RecordError{Table: b.table.Name, Index: i, Key: b.Mapping.Key(b.vals[i*nc : (i+1)*nc]),
		Err: fmt.Errorf("%w: %s", schema.ErrBadOp, msg)}
}

// closeRun gives the last run its rows, b.rows[b.start:], deduplicated
// if asked.
func (b *Builder[T]) closeRun() {
	n := len(b.runs)
	if n == 0 {
		return
	}
	r := &b.runs[n-1]
	rows := b.rows[b.start:]
	if b.Dedupe && r.Op == schema.Upsert && len(rows) > 1 {
		rows = b.dedupe(rows)
	}
	r.Rows = rows[:len(rows):len(rows)]
	b.rows = b.rows[:b.start+len(rows)]
	b.start = len(b.rows)
}

// dedupe keeps the last row of each key, in the order of those last rows.
func (b *Builder[T]) dedupe(rows []int) []int {
	if b.seen == nil {
		b.seen = make(map[string]int)
	}
	clear(b.seen)
	nc := len(b.table.Columns)
	var buf []byte
	for _, r := range rows {
		var k string
		k, buf = Key(b.vals[r*nc:(r+1)*nc], b.keyIdx, b.table.Columns, buf)
		b.seen[k] = r
	}
	if len(b.seen) == len(rows) {
		return rows
	}
	out := rows[:0]
	for _, r := range rows {
		k, _ := Key(b.vals[r*nc:(r+1)*nc], b.keyIdx, b.table.Columns, buf)
		if b.seen[k] == r {
			out = append(out, r)
		}
	}
	return out
}

// Key returns a map key for a row's primary key, given the key's column
// indexes and the table's columns; buf is scratch space, returned for
// reuse. A single text key is returned as is, without copying.
func Key(row []schema.Value, keyIdx []int, cols []schema.Column, buf []byte) (string, []byte) {
	if len(keyIdx) == 1 {
		i := keyIdx[0]
		switch cols[i].Type {
		case schema.String, schema.Decimal:
			return row[i].Str, buf
		}
	}
	buf = buf[:0]
	for _, i := range keyIdx {
		v := &row[i]
		switch cols[i].Type {
		case schema.String, schema.Decimal:
			buf = binary.AppendUvarint(buf, uint64(len(v.Str)))
			buf = append(buf, v.Str...)
		case schema.JSON, schema.Binary:
			buf = binary.AppendUvarint(buf, uint64(len(v.Bytes)))
			buf = append(buf, v.Bytes...)
		case schema.Int, schema.Long:
			buf = binary.BigEndian.AppendUint64(buf, uint64(v.Int))
		case schema.Double:
			buf = binary.BigEndian.AppendUint64(buf, math.Float64bits(v.Float))
		case schema.Boolean:
			if v.Bool {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		case schema.NaiveDate, schema.UTCDatetime:
			buf = binary.BigEndian.AppendUint64(buf, uint64(v.Time.UnixMicro()))
		}
	}
	return string(buf), buf
}
