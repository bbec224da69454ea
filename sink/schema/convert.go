package schema

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// A conv turns a Go value of one static type into the Value of one column
// type. It is built once per field, so that extracting a row needs no
// lookups by name or type.
type conv func(v reflect.Value, dst *Value) error

var (
	timeType          = reflect.TypeFor[time.Time]()
	rawMessageType    = reflect.TypeFor[json.RawMessage]()
	numberType        = reflect.TypeFor[json.Number]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// defaultType returns the column type a Go type maps to when no tag says
// otherwise.
func defaultType(rt reflect.Type) (Type, error) {
	for rt.Kind() == reflect.Pointer {
		rt = rt.Elem()
	}
	switch rt {
	case timeType:
		return UTCDatetime, nil
	case rawMessageType:
		return JSON, nil
	case numberType:
		return Decimal, nil
	}
	if isBytes(rt) {
		return Binary, nil
	}
	if isTextMarshaler(rt) {
		return String, nil
	}
	switch rt.Kind() {
	case reflect.String:
		return String, nil
	case reflect.Bool:
		return Boolean, nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return Int, nil
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return Long, nil
	case reflect.Float32, reflect.Float64:
		return Double, nil
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array, reflect.Interface:
		return JSON, nil
	}
	return 0, fmt.Errorf("no column type for Go type %v", rt)
}

func isTextMarshaler(rt reflect.Type) bool {
	return rt.Implements(textMarshalerType) || reflect.PointerTo(rt).Implements(textMarshalerType)
}

// converter returns the conv that fills a column of type t from values of
// Go type rt, or an error when rt cannot fill t.
func converter(rt reflect.Type, t Type) (conv, error) {
	if rt.Kind() == reflect.Pointer {
		elem, err := converter(rt.Elem(), t)
		if err != nil {
			return nil, err
		}
		return func(v reflect.Value, dst *Value) error {
			if v.IsNil() {
				dst.Null = true
				return nil
			}
			return elem(v.Elem(), dst)
		}, nil
	}
	if rt.Kind() == reflect.Interface {
		return func(v reflect.Value, dst *Value) error {
			if v.IsNil() {
				dst.Null = true
				return nil
			}
			return fromAny(v.Elem(), t, dst)
		}, nil
	}
	if c := converterFor(rt, t); c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("type %v cannot fill a %v column", rt, t)
}

// converterFor returns the conv for a non-pointer, non-interface type, or
// nil: one function for each column type says which Go types fill it.
func converterFor(rt reflect.Type, t Type) conv {
	switch t {
	case String:
		return toString(rt)
	case Int:
		return toInteger(rt, t, math.MinInt32, math.MaxInt32)
	case Long:
		return toInteger(rt, t, math.MinInt64, math.MaxInt64)
	case Double:
		return toDouble(rt)
	case Boolean:
		if rt.Kind() == reflect.Bool {
			return func(v reflect.Value, dst *Value) error { dst.Bool = v.Bool(); return nil }
		}
	case Decimal:
		return toDecimal(rt)
	case NaiveDate:
		return toTime(rt, time.DateOnly, "a date (YYYY-MM-DD)", setDate)
	case UTCDatetime:
		return toTime(rt, time.RFC3339Nano, "an RFC 3339 timestamp", setDatetime)
	case JSON:
		return toJSON(rt)
	case Binary:
		return toBinary(rt)
	}
	return nil
}

// toString fills a String column from a string or a TextMarshaler (but
// not a time.Time, whose column is a date or a timestamp).
func toString(rt reflect.Type) conv {
	switch {
	case rt == timeType:
		return nil
	case rt.Kind() == reflect.String:
		return func(v reflect.Value, dst *Value) error { return setText(v.String(), dst) }
	case isTextMarshaler(rt):
		return func(v reflect.Value, dst *Value) error {
			s, err := marshalText(v)
			if err != nil {
				return err
			}
			return setText(s, dst)
		}
	}
	return nil
}

// toInteger fills an Int or Long column, t, whose values lie in [lo, hi],
// from an integer, a float that holds one exactly, or a json.Number.
func toInteger(rt reflect.Type, t Type, lo, hi int64) conv {
	switch k := rt.Kind(); {
	case isInt(k):
		return func(v reflect.Value, dst *Value) error { return setInt(v.Int(), lo, hi, t, dst) }
	case isUint(k):
		return func(v reflect.Value, dst *Value) error {
			u := v.Uint()
			if u > uint64(hi) {
				return badValue("%d overflows %v", u, t)
			}
			dst.Int = int64(u)
			return nil
		}
	case isFloat(k):
		return func(v reflect.Value, dst *Value) error { return setIntFromFloat(v.Float(), lo, hi, t, dst) }
	case rt == numberType:
		return func(v reflect.Value, dst *Value) error {
			n, err := strconv.ParseInt(v.String(), 10, 64)
			if err != nil {
				return badValue("%q is not an integer", v.String())
			}
			return setInt(n, lo, hi, t, dst)
		}
	}
	return nil
}

// toDouble fills a Double column from a number or a json.Number.
func toDouble(rt reflect.Type) conv {
	switch k := rt.Kind(); {
	case isFloat(k):
		return func(v reflect.Value, dst *Value) error { return setFloat(v.Float(), dst) }
	case isInt(k):
		return func(v reflect.Value, dst *Value) error { dst.Float = float64(v.Int()); return nil }
	case isUint(k):
		return func(v reflect.Value, dst *Value) error { dst.Float = float64(v.Uint()); return nil }
	case rt == numberType:
		return func(v reflect.Value, dst *Value) error {
			f, err := strconv.ParseFloat(v.String(), 64)
			if err != nil {
				return badValue("%q is not a number", v.String())
			}
			return setFloat(f, dst)
		}
	}
	return nil
}

// toDecimal fills a Decimal column from decimal text (a string, a
// json.Number, a TextMarshaler) or a number, kept exact as text.
func toDecimal(rt reflect.Type) conv {
	switch k := rt.Kind(); {
	case k == reflect.String:
		return func(v reflect.Value, dst *Value) error { return setDecimal(v.String(), dst) }
	case isInt(k):
		return func(v reflect.Value, dst *Value) error { dst.Str = strconv.FormatInt(v.Int(), 10); return nil }
	case isUint(k):
		return func(v reflect.Value, dst *Value) error { dst.Str = strconv.FormatUint(v.Uint(), 10); return nil }
	case isFloat(k):
		return func(v reflect.Value, dst *Value) error {
			f := v.Float()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return badValue("%v is not a decimal", f)
			}
			dst.Str = strconv.FormatFloat(f, 'f', -1, 64)
			return nil
		}
	case isTextMarshaler(rt):
		return func(v reflect.Value, dst *Value) error {
			s, err := marshalText(v)
			if err != nil {
				return err
			}
			return setDecimal(s, dst)
		}
	}
	return nil
}

// toTime fills a date or timestamp column with set, from a time.Time or
// from text in layout (what names it in errors); empty text is null.
func toTime(rt reflect.Type, layout, what string, set func(time.Time, *Value) error) conv {
	switch {
	case rt == timeType:
		return func(v reflect.Value, dst *Value) error { return set(timeOf(v), dst) }
	case rt.Kind() == reflect.String:
		return func(v reflect.Value, dst *Value) error {
			s := v.String()
			if s == "" {
				dst.Null = true
				return nil
			}
			d, err := time.Parse(layout, s)
			if err != nil {
				return badValue("%q is not %s", s, what)
			}
			return set(d, dst)
		}
	}
	return nil
}

// toJSON fills a JSON column from JSON text (bytes or a string) or from
// any value encoding/json encodes; a nil map or slice is null.
func toJSON(rt reflect.Type) conv {
	switch k := rt.Kind(); {
	case isBytes(rt):
		return func(v reflect.Value, dst *Value) error { return setJSON(v.Bytes(), dst) }
	case k == reflect.String:
		return func(v reflect.Value, dst *Value) error { return setJSON([]byte(v.String()), dst) }
	case k == reflect.Chan || k == reflect.Func || k == reflect.Complex64 || k == reflect.Complex128:
		return nil
	}
	nullable := rt.Kind() == reflect.Map || rt.Kind() == reflect.Slice
	return func(v reflect.Value, dst *Value) error {
		if nullable && v.IsNil() {
			dst.Null = true
			return nil
		}
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return badValue("cannot encode as JSON: %v", err)
		}
		dst.Bytes = b
		return nil
	}
}

// toBinary fills a Binary column from bytes (nil is null) or a string.
func toBinary(rt reflect.Type) conv {
	switch {
	case isBytes(rt):
		return func(v reflect.Value, dst *Value) error {
			if v.IsNil() {
				dst.Null = true
				return nil
			}
			dst.Bytes = v.Bytes()
			return nil
		}
	case rt.Kind() == reflect.String:
		return func(v reflect.Value, dst *Value) error { dst.Bytes = []byte(v.String()); return nil }
	}
	return nil
}

// isBytes reports whether rt is a slice of bytes.
func isBytes(rt reflect.Type) bool {
	return rt.Kind() == reflect.Slice && rt.Elem().Kind() == reflect.Uint8
}

// dynamic caches the convs for values held in interfaces, such as the
// values of a map[string]any record, by dynamic type and column type.
var dynamic sync.Map // dynKey -> conv (nil conv stored as error)

type dynKey struct {
	rt reflect.Type
	t  Type
}

// fromAny converts a value whose static type was an interface.
func fromAny(v reflect.Value, t Type, dst *Value) error {
	if t == JSON && v.Kind() == reflect.String {
		// A string held in an interface is a decoded JSON string, as in a
		// map[string]any record, not JSON text: "123" must stay a string.
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return badValue("cannot encode as JSON: %v", err)
		}
		dst.Bytes = b
		return nil
	}
	key := dynKey{v.Type(), t}
	c, ok := dynamic.Load(key)
	if !ok {
		var err error
		c, err = converter(v.Type(), t)
		if err != nil {
			c = err
		}
		dynamic.Store(key, c)
	}
	switch c := c.(type) {
	case conv:
		return c(v, dst)
	default:
		return fmt.Errorf("%w: %v", ErrBadValue, c)
	}
}

func isInt(k reflect.Kind) bool  { return k >= reflect.Int && k <= reflect.Int64 }
func isUint(k reflect.Kind) bool { return k >= reflect.Uint && k <= reflect.Uintptr }
func isFloat(k reflect.Kind) bool {
	return k == reflect.Float32 || k == reflect.Float64
}

// timeOf returns the time.Time in v without copying it through an
// interface when v is addressable.
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *v.Addr().Interface().(*time.Time)
	}
	return v.Interface().(time.Time)
}

func marshalText(v reflect.Value) (string, error) {
	var m encoding.TextMarshaler
	if tm, ok := v.Interface().(encoding.TextMarshaler); ok {
		m = tm
	} else if v.CanAddr() {
		m, _ = v.Addr().Interface().(encoding.TextMarshaler)
	}
	if m == nil {
		return "", badValue("%v is not addressable, so its MarshalText cannot be called", v.Type())
	}
	b, err := m.MarshalText()
	if err != nil {
		return "", badValue("MarshalText: %v", err)
	}
	return string(b), nil
}

func setText(s string, dst *Value) error {
	if !utf8.ValidString(s) {
		return badValue("text is not valid UTF-8: %s", quote(s))
	}
	if strings.IndexByte(s, 0) >= 0 {
		return badValue("text contains a NUL byte: %s", quote(s))
	}
	dst.Str = s
	return nil
}

func setInt(n, lo, hi int64, t Type, dst *Value) error {
	if n < lo || n > hi {
		return badValue("%d overflows %v", n, t)
	}
	dst.Int = n
	return nil
}

func setIntFromFloat(f float64, lo, hi int64, t Type, dst *Value) error {
	// float64(hi)+1 is exact for Int and rounds to 2^63 for Long, the
	// first float past the range in both cases. NaN fails f == Trunc(f).
	if f != math.Trunc(f) {
		return badValue("%v is not an integer", f)
	}
	if f < float64(lo) || f >= float64(hi)+1 {
		return badValue("%v overflows %v", f, t)
	}
	// Past 2^53 a float64 no longer holds every integer: the value may
	// already be another one (9007199254740993 decodes as ...992), and two
	// keys could merge into one row. Refuse rather than store it.
	if math.Abs(f) >= 1<<53 {
		return badValue("%.0f is at or past 2^53, where a float64 loses integers; decode with json.Decoder.UseNumber or into an int64 field", f)
	}
	dst.Int = int64(f)
	return nil
}

func setFloat(f float64, dst *Value) error {
	if math.IsNaN(f) {
		return badValue("NaN is not stored")
	}
	dst.Float = f
	return nil
}

func setDecimal(s string, dst *Value) error {
	if s == "" {
		dst.Null = true
		return nil
	}
	if !validDecimal(s) {
		return badValue("%s is not a decimal number", quote(s))
	}
	dst.Str = s
	return nil
}

// validDecimal reports whether s is [+-]digits[.digits][e[+-]digits] with
// at least one digit in the mantissa, the syntax both SQLite users and
// PostgreSQL's numeric accept.
func validDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

func setDate(t time.Time, dst *Value) error {
	if t.IsZero() {
		dst.Null = true
		return nil
	}
	y, m, d := t.Date()
	if y < 1 || y > 9999 {
		return badValue("year %d is outside 1 to 9999", y)
	}
	dst.Time = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return nil
}

func setDatetime(t time.Time, dst *Value) error {
	if t.IsZero() {
		dst.Null = true
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if y := t.Year(); y < 1 || y > 9999 {
		return badValue("year %d is outside 1 to 9999", y)
	}
	dst.Time = t
	return nil
}

func setJSON(b []byte, dst *Value) error {
	if len(b) == 0 {
		dst.Null = true
		return nil
	}
	if !json.Valid(b) {
		return badValue("invalid JSON: %s", quote(string(b)))
	}
	dst.Bytes = b
	return nil
}

// quote returns s quoted and cut to a length fit for an error message.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}
