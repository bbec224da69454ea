package schema

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unsafe"
)

// Column values from the fields of a Record: each JSON value is converted
// to its column's type where nothing is lost, and refused otherwise.

// rowRecord extracts the columns of a Record, as Row does for other
// kinds of records.
func (m *Mapping[T]) rowRecord(r *Record, dst []Value) error {
	hint := 0
	for n, i := range m.order {
		if err := m.recordValue(r, i, &hint, &dst[i]); err != nil {
			return m.recordError(dst, n, i, err)
		}
		if n < len(m.keyIdx) && missing(m.table.Columns[i].Type, &dst[i]) {
			return m.recordError(dst, n, i, ErrMissingKey)
		}
	}
	return nil
}

// keyOfRecord is KeyOf for a Record.
func (m *Mapping[T]) keyOfRecord(r *Record) string {
	if len(m.keyIdx) == 1 {
		i := m.keyIdx[0]
		var v Value
		hint := 0
		if m.recordValue(r, i, &hint, &v) != nil || missing(m.table.Columns[i].Type, &v) {
			return ""
		}
		if m.table.Columns[i].Type == String {
			return v.Str
		}
	}
	return m.keyText(r)
}

// recordValue reads column i of r into dst. hint is where the field is
// looked for first; it moves past the field found, since the records of
// one API keep their fields in one order.
func (m *Mapping[T]) recordValue(r *Record, i int, hint *int, dst *Value) error {
	*dst = Value{}
	c := &m.table.Columns[i]
	j := r.index(c.Name, *hint)
	if j < 0 || r.fields[j].kind == 'n' {
		dst.Null = true
		return nil
	}
	*hint = j + 1
	f := &r.fields[j]
	return fromJSON(r.raw[f.start:f.end], f.kind, c.Type, dst)
}

// fromJSON converts the JSON value v, whose first byte is kind, to a
// value of a column of type t.
func fromJSON(v []byte, kind byte, t Type, dst *Value) error {
	if kind == 'n' {
		dst.Null = true
		return nil
	}
	isNum := kind == '-' || kind >= '0' && kind <= '9'
	switch t {
	case String:
		if kind == '"' {
			s, err := unquote(v)
			if err != nil {
				return badValue("%v", err)
			}
			return setText(s, dst)
		}
		// Any other value is kept as its JSON text: 42, true, {"a":1}.
		return setText(unsafe.String(&v[0], len(v)), dst)
	case Int, Long:
		if !isNum {
			return notFit(v, kind, t)
		}
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if t == Int {
			lo, hi = math.MinInt32, math.MaxInt32
		}
		if n, ok := parseInt(v); ok {
			return setInt(n, lo, hi, t, dst)
		}
		if integral(v) {
			n, err := strconv.ParseInt(unsafe.String(&v[0], len(v)), 10, 64)
			if err != nil {
				return badValue("%s overflows %v", v, t)
			}
			return setInt(n, lo, hi, t, dst)
		}
		f, err := strconv.ParseFloat(unsafe.String(&v[0], len(v)), 64)
		if err != nil {
			return badValue("%s overflows %v", v, t)
		}
		return setIntFromFloat(f, lo, hi, t, dst)
	case Double:
		if !isNum {
			return notFit(v, kind, t)
		}
		if n, ok := parseInt(v); ok && n > -1<<53 && n < 1<<53 {
			dst.Float = float64(n)
			return nil
		}
		f, err := strconv.ParseFloat(unsafe.String(&v[0], len(v)), 64)
		if err != nil {
			return badValue("%s overflows %v", v, t)
		}
		return setFloat(f, dst)
	case Boolean:
		switch kind {
		case 't':
			dst.Bool = true
			return nil
		case 'f':
			return nil
		}
		return notFit(v, kind, t)
	case Decimal:
		switch {
		case isNum:
			return setDecimal(string(v), dst)
		case kind == '"':
			s, err := unquote(v)
			if err != nil {
				return badValue("%v", err)
			}
			return setDecimal(s, dst)
		}
		return notFit(v, kind, t)
	case NaiveDate:
		if kind != '"' {
			return notFit(v, kind, t)
		}
		s, err := unquote(v)
		if err != nil {
			return badValue("%v", err)
		}
		if s == "" {
			dst.Null = true
			return nil
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return badValue("%s is not a date (YYYY-MM-DD)", quote(s))
		}
		return setDate(d, dst)
	case UTCDatetime:
		if kind != '"' {
			return notFit(v, kind, t)
		}
		in := v[1 : len(v)-1]
		if len(in) == 0 {
			dst.Null = true
			return nil
		}
		if d, ok := parseTimestamp(in); ok {
			return setDatetime(d, dst)
		}
		s, err := unquote(v)
		if err != nil {
			return badValue("%v", err)
		}
		d, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return badValue("%s is not an RFC 3339 timestamp", quote(s))
		}
		return setDatetime(d, dst)
	case JSON:
		dst.Bytes = v // checked when the record was decoded
		return nil
	case Binary:
		if kind != '"' {
			return notFit(v, kind, t)
		}
		s, err := unquote(v)
		if err != nil {
			return badValue("%v", err)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return badValue("%s is not base64, which a BINARY column takes from JSON", quote(s))
		}
		dst.Bytes = b
		return nil
	}
	return badValue("no column type %v", t)
}

// notFit is the error for a JSON value of the wrong kind for a column of
// type t.
func notFit(v []byte, kind byte, t Type) error {
	return badValue("%s %s is not %s", kindName(kind), quote(string(v)), typeArticle(t))
}

func typeArticle(t Type) string {
	switch t {
	case Int, Long:
		return "an integer (" + t.String() + ")"
	case Double, Decimal:
		return "a number (" + t.String() + ")"
	case Boolean:
		return "a boolean"
	case NaiveDate:
		return "a date (NAIVE_DATE, text such as \"2024-01-31\")"
	case UTCDatetime:
		return "a timestamp (UTC_DATETIME, RFC 3339 text)"
	case Binary:
		return "base64 text (BINARY)"
	}
	return "a " + t.String()
}

// integral reports whether the JSON number v has no fraction or exponent.
func integral(v []byte) bool {
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// parseInt parses a JSON number that is an integer and fits an int64.
func parseInt(v []byte) (int64, bool) {
	i, neg := 0, false
	if len(v) > 0 && v[0] == '-' {
		i, neg = 1, true
	}
	if i == len(v) || len(v)-i > 18 {
		return 0, false // 18 digits always fit; longer ones take the slow path
	}
	var n int64
	for ; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseTimestamp parses the common form YYYY-MM-DDTHH:MM:SS[.frac]Z
// without allocating; other forms are left to time.Parse.
func parseTimestamp(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' && b[10] != 't' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(b[0:4])
	mo, ok2 := num(b[5:7])
	d, ok3 := num(b[8:10])
	h, ok4 := num(b[11:13])
	mi, ok5 := num(b[14:16])
	s, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		j := 1
		scale := 100_000_000
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			if j <= 9 {
				ns += int(rest[j]-'0') * scale
				scale /= 10
			}
			j++
		}
		if j == 1 {
			return time.Time{}, false
		}
		rest = rest[j:]
	}
	if len(rest) != 1 || rest[0] != 'Z' && rest[0] != 'z' {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // such as February 30
	}
	return t, true
}
