package schema

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrMissingKey reports a record whose primary key column is NULL or
	// empty.
	ErrMissingKey = errors.New("missing primary key")
	// ErrBadValue reports a value that does not fit its column: an INT
	// out of range, text that is not UTF-8 or holds a NUL byte, a DOUBLE
	// that is NaN, malformed DECIMAL, date or JSON text, a date outside
	// years 1 to 9999.
	ErrBadValue = errors.New("value does not fit its column")
	// ErrBadOp reports an operation a sink cannot apply to a record: an
	// unknown [Op], or a soft delete on a sink configured without a
	// deleted column.
	ErrBadOp = errors.New("bad operation")
	// ErrTableMismatch reports a destination table that already exists
	// with a column or primary key that differs from the schema. Sinks add
	// missing nullable columns but never change or drop existing ones.
	ErrTableMismatch = errors.New("existing table does not match the schema")
)

// RecordError is the error for a record that a sink cannot store. It names
// the record by its position in the page and its primary key, and the
// column at fault.
type RecordError struct {
	Table string
	// Index is the record's position in the page, from 0.
	Index int
	// Key is the record's primary key as text, such as `id="42"`; it is
	// empty when the key itself is missing.
	Key string
	// Column is the column at fault, empty when the error concerns the
	// whole record.
	Column string
	// Err says what is wrong; it wraps ErrMissingKey, ErrBadValue or
	// ErrBadOp.
	Err error
}

// Error names the table, the record and the column, then says what is
// wrong.
func (e *RecordError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %q: record %d", e.Table, e.Index)
	if e.Key != "" {
		fmt.Fprintf(&b, " (%s)", e.Key)
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns e.Err.
func (e *RecordError) Unwrap() error { return e.Err }

// badValue returns an error that wraps ErrBadValue with a detail.
func badValue(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadValue, fmt.Sprintf(format, args...))
}
