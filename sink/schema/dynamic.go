package schema

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Dynamic is the table of records without a Go struct ([Record]s),
// inferred from the records themselves: each field becomes a column, typed
// from its JSON values, and a field that appears in a later page or a later
// sync adds a column. Its [Mapping] is an ordinary one, which every sink
// takes; a sink that is given a grown table adds the new columns as it adds
// any missing column, so a writer reopens its sink with the mapping after
// [Dynamic.Grow] reports new columns.
//
// Column types come from the first values seen, as [InferType] says:
// strings are STRING, or UTC_DATETIME for RFC 3339 timestamps, or
// NAIVE_DATE for dates; integers LONG (DECIMAL past 64 bits); other numbers
// DOUBLE; booleans BOOLEAN; objects and arrays JSON. Of values of one new
// field seen together the widest decides (an integer and a fraction give
// DOUBLE, a timestamp and other text STRING, anything and an object
// JSON). A field that is only ever null gets no column until it holds a
// value.
//
// A column never changes type once it exists, since sinks cannot change
// a column's type in place: a later value is converted where nothing is
// lost (an integer into a DOUBLE column, any value into a STRING column as
// its JSON text, any value into a JSON column) and otherwise refused with a
// *[RecordError] that names the record's key and the column, before
// anything of its page is written. Declare a column's type (the
// declared columns of the table given to [NewDynamic]) where the first
// values would mislead, such as prices that start with whole numbers.
//
// A Dynamic is safe for concurrent use.
type Dynamic struct {
	mu    sync.Mutex
	table Table
	known map[string]bool
	m     atomic.Pointer[Mapping[Record]]
}

// NewDynamic returns the Dynamic of the table t: its name, its primary key
// and the columns declared in advance, which may be none. A key column
// that t does not declare is a STRING column; numeric keys then fill it
// with their JSON text, such as "42".
func NewDynamic(t Table) (*Dynamic, error) {
	t = t.clone()
	for _, k := range t.PrimaryKey {
		if t.ColumnIndex(k) < 0 {
			t.Columns = append(t.Columns, Column{Name: k, Type: String})
		}
	}
	m, err := Bind[Record](t)
	if err != nil {
		return nil, err
	}
	d := &Dynamic{table: t, known: make(map[string]bool, len(t.Columns))}
	d.m.Store(m)
	for _, c := range t.Columns {
		d.known[c.Name] = true
	}
	return d, nil
}

// Mapping returns the mapping of the table as it is now.
func (d *Dynamic) Mapping() *Mapping[Record] { return d.m.Load() }

// Table returns a copy of the table as it is now.
func (d *Dynamic) Table() Table {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.table.clone()
}

// Revert returns the table to the one of m, a mapping that [Dynamic.Mapping]
// returned earlier, dropping the columns added since: for a writer whose
// destination refused the grown table, so that it can grow it again in
// smaller steps.
func (d *Dynamic) Revert(m *Mapping[Record]) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.table = m.Table()
	d.m.Store(m)
	clear(d.known)
	for _, c := range d.table.Columns {
		d.known[c.Name] = true
	}
}

// Grow adds a column for each field of recs that the table lacks and that
// holds a value other than null, typed by the values recs hold (see
// [Dynamic]), and returns the columns added: none when every field has
// its column, which is quick to find. A field whose name cannot be a
// column (empty, holding a NUL byte, or differing only in case from
// another column) fails with a *RecordError that names it.
func (d *Dynamic) Grow(recs []Record) ([]Column, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var added []Column
	var at map[string]int // index in added, by name
	for i := range recs {
		r := &recs[i]
		for j := range r.fields {
			f := &r.fields[j]
			if f.kind == 0 || f.kind == 'n' || d.known[f.name] {
				continue
			}
			t := inferKind(r.raw[f.start:f.end], f.kind)
			if k, ok := at[f.name]; ok {
				added[k].Type = joinTypes(added[k].Type, t)
				continue
			}
			if err := d.checkName(f.name, added); err != nil {
				return nil, &RecordError{Table: d.table.Name, Index: i, Key: d.m.Load().keyText(r), Column: f.name, Err: err}
			}
			if at == nil {
				at = make(map[string]int)
			}
			at[f.name] = len(added)
			added = append(added, Column{Name: f.name, Type: t})
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	t := d.table.clone()
	t.Columns = append(t.Columns, added...)
	m, err := Bind[Record](t)
	if err != nil {
		return nil, err
	}
	d.table = t
	d.m.Store(m)
	for _, c := range added {
		d.known[c.Name] = true
	}
	return added, nil
}

// checkName reports why a field named name cannot be a new column of the
// table, to which the columns added are being added.
func (d *Dynamic) checkName(name string, added []Column) error {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("%w: the field's name %q cannot name a column", ErrBadValue, name)
	}
	same := func(c Column) bool { return strings.EqualFold(c.Name, name) }
	if i := slices.IndexFunc(d.table.Columns, same); i >= 0 {
		return fmt.Errorf("%w: the field %q and the column %q differ only in case, which SQLite does not tell apart", ErrBadValue, name, d.table.Columns[i].Name)
	}
	if i := slices.IndexFunc(added, same); i >= 0 {
		return fmt.Errorf("%w: the fields %q and %q differ only in case, which SQLite does not tell apart", ErrBadValue, added[i].Name, name)
	}
	return nil
}

// keyText returns the primary key of r as text for a message, or "".
func (m *Mapping[T]) keyText(r *Record) string {
	row := make([]Value, len(m.table.Columns))
	hint := 0
	for _, i := range m.keyIdx {
		if m.recordValue(r, i, &hint, &row[i]) != nil || missing(m.table.Columns[i].Type, &row[i]) {
			return ""
		}
	}
	return m.Key(row)
}

// InferType returns the column type that the JSON value v suggests, as
// [Dynamic] infers it, or 0 for null (which suggests none).
func InferType(v []byte) Type {
	s := scanner{b: v}
	s.space()
	if s.i >= len(v) {
		return 0
	}
	start := s.i
	if err := s.value(); err != nil {
		return 0
	}
	return inferKind(v[start:s.i], v[start])
}

// inferKind returns the type of the JSON value v, whose first byte is
// kind.
func inferKind(v []byte, kind byte) Type {
	switch kind {
	case 'n':
		return 0
	case 't', 'f':
		return Boolean
	case '{', '[':
		return JSON
	case '"':
		in := v[1 : len(v)-1]
		if _, ok := parseTimestamp(in); ok {
			return UTCDatetime
		}
		if len(in) >= 20 && len(in) <= 40 && in[4] == '-' && in[10] == 'T' {
			if _, err := time.Parse(time.RFC3339Nano, string(in)); err == nil {
				return UTCDatetime
			}
		}
		if len(in) == 10 && in[4] == '-' && in[7] == '-' {
			if _, ok := parseTimestamp(append(append([]byte(nil), in...), "T00:00:00Z"...)); ok {
				return NaiveDate
			}
		}
		return String
	}
	if _, ok := parseInt(v); ok {
		return Long
	}
	if !integral(v) {
		return Double
	}
	if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
		return Long
	}
	return Decimal // an integer past 64 bits
}

// joinTypes returns the type that holds the values of both a and b (0
// for none).
func joinTypes(a, b Type) Type {
	switch {
	case a == 0:
		return b
	case b == 0, a == b:
		return a
	case a == JSON || b == JSON:
		return JSON
	}
	num := func(t Type) bool { return t == Long || t == Double || t == Decimal }
	if num(a) && num(b) {
		if a == Decimal || b == Decimal {
			return Decimal
		}
		return Double
	}
	return String
}
