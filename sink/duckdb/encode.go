package duckdb

import (
	"database/sql/driver"
	"fmt"
	"math/big"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/pagekit/pagekit/sink/schema"
)

// decimalWidth is the precision of DECIMAL columns: DuckDB's largest.
const decimalWidth = 38

// sqlType returns the DuckDB type of a column type.
func sqlType(t schema.Type, scale int) string {
	switch t {
	case schema.String:
		return "VARCHAR"
	case schema.Int:
		return "INTEGER"
	case schema.Long:
		return "BIGINT"
	case schema.Double:
		return "DOUBLE"
	case schema.Boolean:
		return "BOOLEAN"
	case schema.Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", decimalWidth, scale)
	case schema.NaiveDate:
		return "DATE"
	case schema.UTCDatetime:
		return "TIMESTAMPTZ"
	case schema.JSON:
		return "JSON"
	case schema.Binary:
		return "BLOB"
	}
	return "VARCHAR"
}

// sameType reports whether typ, as DuckDB describes an existing column, is
// the type want.
func sameType(typ, want string) bool {
	norm := func(s string) string {
		s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
		switch s {
		case "TIMESTAMPWITHTIMEZONE":
			return "TIMESTAMPTZ"
		case "INT", "INT4":
			return "INTEGER"
		case "INT8":
			return "BIGINT"
		case "TEXT", "STRING":
			return "VARCHAR"
		case "BOOL":
			return "BOOLEAN"
		}
		return s
	}
	return norm(typ) == norm(want)
}

// encoder turns extracted values into the Appender's values.
type encoder struct {
	scale int
	pow   *big.Int // 10^scale
	limit *big.Int // 10^decimalWidth
}

func newEncoder(scale int) encoder {
	return encoder{
		scale: scale,
		pow:   new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil),
		limit: new(big.Int).Exp(big.NewInt(10), big.NewInt(decimalWidth), nil),
	}
}

// value returns the driver value of v in a column of type t. A DECIMAL that
// does not fit DECIMAL(38, scale) exactly is an error (wrapping
// schema.ErrBadValue): DuckDB would round it.
func (e *encoder) value(t schema.Type, v *schema.Value) (driver.Value, error) {
	if v.Null {
		return nil, nil
	}
	switch t {
	case schema.String:
		return v.Str, nil
	case schema.Int:
		return int32(v.Int), nil
	case schema.Long:
		return v.Int, nil
	case schema.Double:
		return v.Float, nil
	case schema.Boolean:
		return v.Bool, nil
	case schema.Decimal:
		return e.decimal(v.Str)
	case schema.NaiveDate, schema.UTCDatetime:
		return v.Time, nil
	case schema.JSON:
		return string(v.Bytes), nil
	case schema.Binary:
		return v.Bytes, nil
	}
	return nil, fmt.Errorf("duckdb: no value for column type %v", t)
}

func (e *encoder) decimal(s string) (driver.Value, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a decimal", schema.ErrBadValue, s)
	}
	r.Mul(r, new(big.Rat).SetInt(e.pow))
	if !r.IsInt() {
		return nil, fmt.Errorf("%w: %s has more than %d digits after the point of DECIMAL(%d,%d) (see Config.DecimalScale)",
			schema.ErrBadValue, s, e.scale, decimalWidth, e.scale)
	}
	n := new(big.Int).Set(r.Num())
	if new(big.Int).Abs(n).Cmp(e.limit) >= 0 {
		return nil, fmt.Errorf("%w: %s has more than %d digits before the point of DECIMAL(%d,%d)",
			schema.ErrBadValue, s, decimalWidth-e.scale, decimalWidth, e.scale)
	}
	return duckdb.Decimal{Width: decimalWidth, Scale: uint8(e.scale), Value: n}, nil
}

// ident quotes an SQL identifier.
func ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// literal quotes an SQL string.
func literal(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}
