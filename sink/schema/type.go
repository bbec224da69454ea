package schema

import (
	"fmt"
	"strings"
)

// Type is the type of a column, as a connector declares it. Each sink maps
// it to a native type (see the sinks' documentation).
type Type uint8

// The column types. The zero Type is invalid.
const (
	String      Type = iota + 1 // UTF-8 text without NUL bytes
	Int                         // 32-bit signed integer
	Long                        // 64-bit signed integer
	Double                      // 64-bit IEEE float, not NaN
	Boolean                     // true or false
	Decimal                     // exact decimal number, kept as its text
	NaiveDate                   // calendar date without a time zone, years 1 to 9999
	UTCDatetime                 // instant in UTC, microsecond precision, years 1 to 9999
	JSON                        // a JSON document
	Binary                      // bytes
)

var typeNames = [...]string{
	String:      "STRING",
	Int:         "INT",
	Long:        "LONG",
	Double:      "DOUBLE",
	Boolean:     "BOOLEAN",
	Decimal:     "DECIMAL",
	NaiveDate:   "NAIVE_DATE",
	UTCDatetime: "UTC_DATETIME",
	JSON:        "JSON",
	Binary:      "BINARY",
}

// String returns the type's name, such as "UTC_DATETIME".
func (t Type) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Valid reports whether t is one of the declared types.
func (t Type) Valid() bool { return t >= String && t <= Binary }

// ParseType returns the type named s, such as "UTC_DATETIME" or
// "utc_datetime".
func ParseType(s string) (Type, error) {
	for t := String; t <= Binary; t++ {
		if strings.EqualFold(s, typeNames[t]) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("schema: unknown column type %q", s)
}

// MarshalText returns the type's name.
func (t Type) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("schema: invalid column type %d", uint8(t))
	}
	return []byte(typeNames[t]), nil
}

// UnmarshalText parses a type name, as [ParseType] does.
func (t *Type) UnmarshalText(b []byte) error {
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
