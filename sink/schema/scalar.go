package schema

import (
	"fmt"
	"reflect"
)

// Scalar records: an API that lists bare values, such as a registry's
// {"repositories": ["a", "b"]}, syncs into a table of one column without a
// wrapper type. The record is the column's value, and its primary key.

// isScalar reports whether records of type rt are bare values: a string,
// a boolean, a number, a json.Number or a time.Time.
func isScalar(rt reflect.Type) bool {
	if rt == timeType || rt == numberType {
		return true
	}
	switch rt.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// deriveScalar builds the one-column table of a scalar record type: the
// column is named primaryKey[0], or "value", and is the primary key.
func deriveScalar[T any](table string, primaryKey []string) (*Mapping[T], error) {
	rt := reflect.TypeFor[T]()
	name := "value"
	switch len(primaryKey) {
	case 0:
	case 1:
		name = primaryKey[0]
	default:
		return nil, fmt.Errorf("schema: table %q: records of type %v are one value, so the key is one column, not %d", table, rt, len(primaryKey))
	}
	typ, err := defaultType(rt)
	if err != nil {
		return nil, fmt.Errorf("schema: table %q: %w", table, err)
	}
	return bindScalar[T](Table{Name: table, PrimaryKey: []string{name}, Columns: []Column{{Name: name, Type: typ}}})
}

// bindScalar maps a scalar record type to a table of exactly one column.
func bindScalar[T any](t Table) (*Mapping[T], error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	rt := reflect.TypeFor[T]()
	if len(t.Columns) != 1 {
		return nil, fmt.Errorf("schema: table %q: records of type %v are one value, so the table needs exactly one column, not %d", t.Name, rt, len(t.Columns))
	}
	cv, err := converter(rt, t.Columns[0].Type)
	if err != nil {
		return nil, fmt.Errorf("schema: table %q: column %q: %w", t.Name, t.Columns[0].Name, err)
	}
	m := newMapping[T](t, scalarRecord)
	m.cols[0] = field{conv: cv}
	return m, nil
}
