package schema

import (
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Mapping ties a [Table] to the Go record type T and extracts the column
// values of T's records. T is a struct, a pointer to a struct,
// map[string]any, a [Record], or a scalar that fills a one-column table
// (see [Bind]). A Mapping is built once, with reflection,
// into per-column field paths and converters, so extracting a row does no
// lookups by name. It is safe for concurrent use.
type Mapping[T any] struct {
	table  Table
	keyIdx []int
	order  []int // key columns first, so errors can name the key
	cols   []field
	kind   recordKind
}

type recordKind uint8

const (
	structRecord recordKind = iota
	pointerRecord
	mapRecord
	scalarRecord
	jsonRecord // Record
)

// field is how one column is read from a record.
type field struct {
	index []int // struct field path
	conv  conv
	name  string // map key, for map records
}

// Derive builds a Table named table from the fields of the struct type T
// (or *T's struct) and returns its Mapping. Columns follow the fields in
// order, named and typed by their tags as the package documentation
// describes; embedded structs without a name are flattened, as
// encoding/json does. The primary key is the columns named in primaryKey,
// or when there are none, the fields tagged "pk".
//
// A scalar T (a string, a boolean, a number, a json.Number or a time.Time)
// gives a table of one column, named primaryKey[0] or "value", which is
// its primary key: a list of bare values, such as a registry's
// repository names, syncs without a wrapper type.
func Derive[T any](table string, primaryKey ...string) (*Mapping[T], error) {
	rt := reflect.TypeFor[T]()
	if isScalar(rt) {
		return deriveScalar[T](table, primaryKey)
	}
	st := rt
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("schema: Derive needs a struct type, not %v (declare a Table and use Bind)", rt)
	}
	fields, err := structFields(st)
	if err != nil {
		return nil, fmt.Errorf("schema: table %q: %w", table, err)
	}
	t := Table{Name: table, PrimaryKey: slices.Clone(primaryKey)}
	for _, f := range fields {
		typ := f.colType
		if typ == 0 {
			if typ, err = defaultType(f.typ); err != nil {
				return nil, fmt.Errorf("schema: table %q: field %s: %w (tag it with a type or pagekit:\"-\")", table, f.path, err)
			}
		}
		t.Columns = append(t.Columns, Column{Name: f.name, Type: typ})
		if len(primaryKey) == 0 && f.pk {
			t.PrimaryKey = append(t.PrimaryKey, f.name)
		}
	}
	if len(t.PrimaryKey) == 0 && len(t.Columns) > 0 {
		return nil, fmt.Errorf("schema: table %q has no primary key: name its columns in Derive or tag fields pagekit:\",pk\"", table)
	}
	return bindStruct[T](t, fields)
}

// Bind returns the Mapping of a declared Table to the record type T.
//
// When T is a struct (or a pointer to one), each column is read from the
// field of the same name, as named by its tags (see the package
// documentation); a case-insensitive match is used when there is no exact
// one. Fields without a column are ignored; a column without a field is an
// error. Tag types are ignored: the table's types rule, and each field's
// Go type must be able to fill its column.
//
// When T is map[string]any, each column is read from the map entry of the
// same name, converted by its dynamic type; a missing entry is NULL. JSON
// numbers decoded as float64 fill INT and LONG columns when they are
// integers. A string fills a JSON column as a JSON string, since it is a
// decoded value, not JSON text (the same holds for interface fields).
//
// When T is a [Record], each column is read from the record's field of
// the same name, converted from its JSON value as [Dynamic] describes;
// a missing field is NULL, and fields without a column are ignored.
//
// When T is a scalar (see [Derive]), the table has exactly one column,
// which the record fills.
func Bind[T any](t Table) (*Mapping[T], error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	rt := reflect.TypeFor[T]()
	if isScalar(rt) {
		return bindScalar[T](t)
	}
	if rt == reflect.TypeFor[Record]() {
		return newMapping[T](t, jsonRecord), nil
	}
	if rt == reflect.TypeFor[map[string]any]() {
		m := newMapping[T](t, mapRecord)
		for i, c := range m.table.Columns {
			typ := c.Type
			m.cols[i] = field{name: c.Name, conv: func(v reflect.Value, dst *Value) error { return fromAny(v, typ, dst) }}
		}
		return m, nil
	}
	st := rt
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("schema: Bind needs a struct type or map[string]any, not %v", rt)
	}
	fields, err := structFields(st)
	if err != nil {
		return nil, fmt.Errorf("schema: table %q: %w", t.Name, err)
	}
	return bindStruct[T](t, fields)
}

// Must returns m, and panics if err is not nil. It is for mappings in
// package-level variables:
//
//	var users = schema.Must(schema.Derive[User]("user"))
func Must[T any](m *Mapping[T], err error) *Mapping[T] {
	if err != nil {
		panic(err)
	}
	return m
}

func newMapping[T any](t Table, kind recordKind) *Mapping[T] {
	m := &Mapping[T]{table: t.clone(), kind: kind}
	m.keyIdx = m.table.KeyIndex()
	m.order = slices.Clone(m.keyIdx)
	for i := range m.table.Columns {
		if !slices.Contains(m.keyIdx, i) {
			m.order = append(m.order, i)
		}
	}
	m.cols = make([]field, len(m.table.Columns))
	return m
}

func bindStruct[T any](t Table, fields []structField) (*Mapping[T], error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	kind := structRecord
	if reflect.TypeFor[T]().Kind() == reflect.Pointer {
		kind = pointerRecord
	}
	m := newMapping[T](t, kind)
	for i, c := range m.table.Columns {
		f, err := findField(fields, c.Name)
		if err != nil {
			return nil, fmt.Errorf("schema: table %q: column %q: %w", t.Name, c.Name, err)
		}
		cv, err := converter(f.typ, c.Type)
		if err != nil {
			return nil, fmt.Errorf("schema: table %q: column %q: field %s: %w", t.Name, c.Name, f.path, err)
		}
		m.cols[i] = field{index: f.index, conv: cv}
	}
	return m, nil
}

func findField(fields []structField, name string) (*structField, error) {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i], nil
		}
	}
	var found *structField
	for i := range fields {
		if strings.EqualFold(fields[i].name, name) {
			if found != nil {
				return nil, fmt.Errorf("fields %s and %s both match", found.path, fields[i].path)
			}
			found = &fields[i]
		}
	}
	if found == nil {
		return nil, errors.New("no field of the record type has this name")
	}
	return found, nil
}

// Table returns a copy of the mapping's table.
func (m *Mapping[T]) Table() Table { return m.table.clone() }

// Row extracts the column values of rec into dst, which must have one
// element per column. It returns a *[RecordError] (with Index 0) when the
// record has no primary key or a value does not fit its column; the key
// columns are read first, so that the error can name the record's key.
func (m *Mapping[T]) Row(rec *T, dst []Value) error {
	if len(dst) != len(m.cols) {
		panic(fmt.Sprintf("schema: Row needs %d values, got %d", len(m.cols), len(dst)))
	}
	if m.kind == jsonRecord {
		return m.rowRecord(any(rec).(*Record), dst)
	}
	rv, mp, err := m.record(rec)
	if err != nil {
		return err
	}
	for n, i := range m.order {
		if err := m.value(rv, mp, i, &dst[i]); err != nil {
			return m.recordError(dst, n, i, err)
		}
		if n < len(m.keyIdx) && missing(m.table.Columns[i].Type, &dst[i]) {
			return m.recordError(dst, n, i, ErrMissingKey)
		}
	}
	return nil
}

// record returns what the columns of rec are read from: a struct or scalar
// value, or a map.
func (m *Mapping[T]) record(rec *T) (reflect.Value, map[string]any, error) {
	switch m.kind {
	case mapRecord:
		return reflect.Value{}, *any(rec).(*map[string]any), nil
	case pointerRecord:
		rv := reflect.ValueOf(rec).Elem()
		if rv.IsNil() {
			return rv, nil, &RecordError{Table: m.table.Name, Err: fmt.Errorf("%w: nil record", ErrMissingKey)}
		}
		return rv.Elem(), nil, nil
	}
	return reflect.ValueOf(rec).Elem(), nil, nil
}

// value reads column i of the record rv or mp into dst.
func (m *Mapping[T]) value(rv reflect.Value, mp map[string]any, i int, dst *Value) error {
	f := &m.cols[i]
	*dst = Value{}
	var fv reflect.Value
	switch {
	case m.kind == scalarRecord:
		fv = rv
	case m.kind == mapRecord:
		x, ok := mp[f.name]
		if !ok || x == nil {
			dst.Null = true
		} else {
			fv = reflect.ValueOf(x)
		}
	case len(f.index) == 1:
		fv = rv.Field(f.index[0])
	default:
		var err error
		if fv, err = rv.FieldByIndexErr(f.index); err != nil {
			dst.Null = true // through a nil embedded pointer
		}
	}
	if fv.IsValid() {
		return f.conv(fv, dst)
	}
	return nil
}

// KeyOf returns the primary key of rec as text that tells records apart:
// the value itself for a key of one text column, such as "7f3c", or else
// the form of [Mapping.Key], such as `org=4, id="7f3c"`. It returns ""
// for a record without a valid key, which its row reports as an error.
func (m *Mapping[T]) KeyOf(rec T) string {
	if m.kind == jsonRecord {
		return m.keyOfRecord(any(&rec).(*Record))
	}
	rv, mp, err := m.record(&rec)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for n, i := range m.keyIdx {
		var v Value
		if m.value(rv, mp, i, &v) != nil || missing(m.table.Columns[i].Type, &v) {
			return ""
		}
		c := m.table.Columns[i]
		if len(m.keyIdx) == 1 && c.Type == String {
			return v.Str
		}
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name)
		b.WriteByte('=')
		b.WriteString(FormatValue(c.Type, v))
	}
	return b.String()
}

// Rows extracts the values of every record in items, row after row, into
// dst (grown as needed) and returns it. A *[RecordError] carries the
// record's index in items. Room for every row is made only once the first
// record has been read without error, so that a page of bad records fails
// without allocating for all of them.
func (m *Mapping[T]) Rows(items []T, dst []Value) ([]Value, error) {
	nc := len(m.cols)
	dst = slices.Grow(dst[:0], min(len(items), 1)*nc)
	for i := range items {
		if i == 1 {
			dst = slices.Grow(dst, (len(items)-1)*nc)
		}
		dst = dst[:(i+1)*nc]
		if err := m.Row(&items[i], dst[i*nc:(i+1)*nc]); err != nil {
			var re *RecordError
			if errors.As(err, &re) {
				re.Index = i
			}
			return dst, err
		}
	}
	return dst, nil
}

// missing reports whether a key value is absent: NULL, or empty text or
// bytes. A zero number is a valid key.
func missing(t Type, v *Value) bool {
	switch t {
	case String, Decimal:
		return v.Null || v.Str == ""
	case JSON, Binary:
		return v.Null || len(v.Bytes) == 0
	}
	return v.Null
}

// recordError builds the error for column i, the n-th column read; the
// key columns before it have been read.
func (m *Mapping[T]) recordError(row []Value, n, i int, err error) *RecordError {
	e := &RecordError{Table: m.table.Name, Column: m.table.Columns[i].Name, Err: err}
	if n >= len(m.keyIdx) {
		e.Key = m.Key(row)
	}
	return e
}

// Key returns the primary key of an extracted row as text for messages,
// such as `id="7f3c"` or `org=4, id="7f3c"`.
func (m *Mapping[T]) Key(row []Value) string {
	var b strings.Builder
	for n, i := range m.keyIdx {
		if n > 0 {
			b.WriteString(", ")
		}
		c := m.table.Columns[i]
		b.WriteString(c.Name)
		b.WriteByte('=')
		b.WriteString(FormatValue(c.Type, row[i]))
	}
	return b.String()
}

// FormatValue returns v, a value of a column of type t, as short text for
// messages: strings quoted, times in RFC 3339, bytes in hex.
func FormatValue(t Type, v Value) string {
	if v.Null {
		return "NULL"
	}
	switch t {
	case String, Decimal:
		if t == Decimal {
			return v.Str
		}
		return quote(v.Str)
	case Int, Long:
		return strconv.FormatInt(v.Int, 10)
	case Double:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case Boolean:
		return strconv.FormatBool(v.Bool)
	case NaiveDate:
		return v.Time.Format(time.DateOnly)
	case UTCDatetime:
		return v.Time.Format(time.RFC3339Nano)
	case JSON:
		return quote(string(v.Bytes))
	case Binary:
		const max = 32
		if len(v.Bytes) > max {
			return "x'" + hex.EncodeToString(v.Bytes[:max]) + "...'"
		}
		return "x'" + hex.EncodeToString(v.Bytes) + "'"
	}
	return "?"
}
