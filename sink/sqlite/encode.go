package sqlite

import (
	"strings"
	"time"

	"github.com/pagekit/pagekit/sink/schema"
)

// sqlType returns the STRICT storage type of a column type.
func sqlType(t schema.Type) string {
	switch t {
	case schema.Int, schema.Long, schema.Boolean:
		return "INTEGER"
	case schema.Double:
		return "REAL"
	case schema.Binary:
		return "BLOB"
	}
	return "TEXT"
}

// arg returns the driver value of v in a column of type t.
func arg(t schema.Type, v *schema.Value) any {
	if v.Null {
		return nil
	}
	switch t {
	case schema.String, schema.Decimal:
		return v.Str
	case schema.Int, schema.Long:
		return v.Int
	case schema.Double:
		return v.Float
	case schema.Boolean:
		if v.Bool {
			return int64(1)
		}
		return int64(0)
	case schema.NaiveDate:
		return string(appendDate(make([]byte, 0, 10), v.Time))
	case schema.UTCDatetime:
		return FormatDatetime(v.Time)
	case schema.JSON:
		return string(v.Bytes)
	case schema.Binary:
		return v.Bytes
	}
	return nil
}

// DatetimeLayout is the layout of UTC_DATETIME values in SQLite: RFC 3339
// in UTC with exactly six fractional digits, so that the text sorts in time
// order and SQLite's date and time functions read it.
const DatetimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatDatetime returns t in [DatetimeLayout], in UTC, truncated to the
// microsecond.
func FormatDatetime(t time.Time) string {
	var b [len(DatetimeLayout)]byte
	return string(appendDatetime(b[:0], t.UTC()))
}

func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, int(m))
	b = append(b, '-')
	return append2(b, d)
}

func appendDatetime(b []byte, t time.Time) []byte {
	b = appendDate(b, t)
	h, mi, s := t.Clock()
	b = append(b, 'T')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, s)
	b = append(b, '.')
	us := t.Nanosecond() / 1000
	b = append2(b, us/10000)
	b = append2(b, us/100%100)
	b = append2(b, us%100)
	return append(b, 'Z')
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

func append4(b []byte, n int) []byte { return append2(append2(b, n/100), n%100) }

// ident quotes an SQL identifier.
func ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
