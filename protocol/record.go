package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/pagekit/pagekit/sink/schema"
)

// recordEncoder writes rows of one table as JSON objects, one key per
// column in the table's order, the keys encoded once.
type recordEncoder struct {
	cols []schema.Column
	keys [][]byte // `"name":`, with a leading comma past the first
}

func newRecordEncoder(t *schema.Table) *recordEncoder {
	e := &recordEncoder{cols: t.Columns, keys: make([][]byte, len(t.Columns))}
	for i, c := range t.Columns {
		var k []byte
		if i > 0 {
			k = append(k, ',')
		}
		k = appendString(k, c.Name)
		e.keys[i] = append(k, ':')
	}
	return e
}

// append appends row as a JSON object.
func (e *recordEncoder) append(b []byte, row []schema.Value) ([]byte, error) {
	b = append(b, '{')
	for i, c := range e.cols {
		b = append(b, e.keys[i]...)
		var err error
		if b, err = AppendValue(b, c.Type, row[i]); err != nil {
			return b, fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	return append(b, '}'), nil
}

// AppendValue appends v, a value of a column of type t, as JSON: null, a
// number (Int, Long, Double, Decimal), true or false, a string (String;
// NaiveDate as 2006-01-02; UTCDatetime in RFC 3339 with up to six
// fractional digits; Binary in standard base64), or the JSON document
// itself, on one line. It fails for a Double that is infinite, which
// JSON cannot hold.
func AppendValue(b []byte, t schema.Type, v schema.Value) ([]byte, error) {
	if v.Null {
		return append(b, "null"...), nil
	}
	switch t {
	case schema.String:
		return appendString(b, v.Str), nil
	case schema.Int, schema.Long:
		return strconv.AppendInt(b, v.Int, 10), nil
	case schema.Double:
		if math.IsInf(v.Float, 0) || math.IsNaN(v.Float) {
			return b, fmt.Errorf("%v cannot be written in JSON", v.Float)
		}
		return strconv.AppendFloat(b, v.Float, 'g', -1, 64), nil
	case schema.Boolean:
		return strconv.AppendBool(b, v.Bool), nil
	case schema.Decimal:
		return appendDecimal(b, v.Str), nil
	case schema.NaiveDate:
		b = append(b, '"')
		b = v.Time.AppendFormat(b, "2006-01-02")
		return append(b, '"'), nil
	case schema.UTCDatetime:
		b = append(b, '"')
		b = v.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.999999Z07:00")
		return append(b, '"'), nil
	case schema.JSON:
		if bytes.ContainsAny(v.Bytes, "\r\n") {
			// One message a line: the document's own line breaks can
			// only be white space between its tokens.
			var buf bytes.Buffer
			if err := json.Compact(&buf, v.Bytes); err != nil {
				return b, err
			}
			return append(b, buf.Bytes()...), nil
		}
		return append(b, v.Bytes...), nil
	case schema.Binary:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, v.Bytes)
		return append(b, '"'), nil
	}
	return b, fmt.Errorf("unknown column type %v", t)
}

// appendDecimal appends a decimal's text, which the schema package has
// validated as [+-]digits[.digits][e[+-]digits], as a JSON number: no
// plus sign, no leading zeros, a digit on each side of the point.
func appendDecimal(b []byte, s string) []byte {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			b = append(b, '-')
		}
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := s[:i]
	for len(intPart) > 1 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	if intPart == "" {
		intPart = "0"
	}
	b = append(b, intPart...)
	s = s[i:]
	if len(s) > 0 && s[0] == '.' {
		j := 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > 1 {
			b = append(b, s[:j]...)
		}
		s = s[j:]
	}
	return append(b, s...) // the exponent, as JSON takes it
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json writes it; HTML characters are left alone.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			// Line separators, which some JSON-lines readers split on.
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// ColumnSchema returns the JSON Schema of the values [AppendValue] writes
// for a column of type t; nullable adds null to its types.
func ColumnSchema(t schema.Type, nullable bool) map[string]any {
	typ := func(name string) any {
		if nullable {
			return []any{"null", name}
		}
		return name
	}
	switch t {
	case schema.String:
		return map[string]any{"type": typ("string")}
	case schema.Int, schema.Long:
		return map[string]any{"type": typ("integer")}
	case schema.Double, schema.Decimal:
		return map[string]any{"type": typ("number")}
	case schema.Boolean:
		return map[string]any{"type": typ("boolean")}
	case schema.NaiveDate:
		return map[string]any{"type": typ("string"), "format": "date"}
	case schema.UTCDatetime:
		return map[string]any{"type": typ("string"), "format": "date-time"}
	case schema.Binary:
		return map[string]any{"type": typ("string"), "contentEncoding": "base64"}
	}
	return map[string]any{} // JSON: any document
}

// RecordSchema returns the JSON Schema of the records of table t as
// [AppendValue] writes them: an object with a property per column, the
// primary key's required and never null, the others nullable. column, when
// not nil, may add keywords to each column's schema, such as a platform's
// own type annotations.
func RecordSchema(t schema.Table, column func(c schema.Column, s map[string]any)) map[string]any {
	props := make(map[string]any, len(t.Columns))
	for _, c := range t.Columns {
		key := false
		for _, k := range t.PrimaryKey {
			key = key || k == c.Name
		}
		s := ColumnSchema(c.Type, !key)
		if column != nil {
			column(c, s)
		}
		props[c.Name] = s
	}
	req := make([]any, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		req[i] = k
	}
	return map[string]any{
		"$schema":    "http://json-schema.org/draft-07/schema#",
		"type":       "object",
		"properties": props,
		"required":   req,
	}
}
