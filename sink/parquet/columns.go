package parquet

import (
	"fmt"
	"math/big"
	"time"

	"github.com/pagekit/pagekit/sink/schema"
	pq "github.com/parquet-go/parquet-go"
)

// The columns every file has besides the table's.
const (
	// OpColumn holds a row's operation: "upsert" or "delete". A delete
	// row has the key columns only.
	OpColumn = "_pagekit_op"
	// SeqColumn holds the sequence number of the commit that wrote the
	// row; of a key's rows, the one with the largest is current.
	SeqColumn = "_pagekit_seq"
)

// decimalPrecision is the precision of DECIMAL columns, kept in 16 bytes.
const decimalPrecision = 38

// node returns the Parquet node of a column type: every column is
// optional, as a NULL may go anywhere but in the key.
func node(t schema.Type, scale int) pq.Node {
	var n pq.Node
	switch t {
	case schema.String:
		n = pq.String()
	case schema.Int:
		n = pq.Int(32)
	case schema.Long:
		n = pq.Int(64)
	case schema.Double:
		n = pq.Leaf(pq.DoubleType)
	case schema.Boolean:
		n = pq.Leaf(pq.BooleanType)
	case schema.Decimal:
		n = pq.Decimal(scale, decimalPrecision, pq.FixedLenByteArrayType(16))
	case schema.NaiveDate:
		n = pq.Date()
	case schema.UTCDatetime:
		n = pq.Timestamp(pq.Microsecond)
	case schema.JSON:
		n = pq.JSON()
	case schema.Binary:
		n = pq.Leaf(pq.ByteArrayType)
	}
	return pq.Optional(n)
}

// fileSchema returns the Parquet schema of t's files.
func fileSchema(t *schema.Table, scale int) *pq.Schema {
	g := pq.Group{
		OpColumn:  pq.String(),
		SeqColumn: pq.Int(64),
	}
	for _, c := range t.Columns {
		g[c.Name] = node(c.Type, scale)
	}
	return pq.NewSchema(t.Name, g)
}

// layout is where each column of a table goes in a row of its files.
type layout struct {
	leaf    []int // by table column
	op, seq int
	width   int
	scale   int
	pow     *big.Int // 10^scale
	limit   *big.Int // 10^decimalPrecision
}

func newLayout(t *schema.Table, s *pq.Schema, scale int) layout {
	l := layout{
		width: len(t.Columns) + 2,
		scale: scale,
		pow:   new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil),
		limit: new(big.Int).Exp(big.NewInt(10), big.NewInt(decimalPrecision), nil),
	}
	leaf := func(name string) int {
		c, _ := s.Lookup(name)
		return c.ColumnIndex
	}
	for _, c := range t.Columns {
		l.leaf = append(l.leaf, leaf(c.Name))
	}
	l.op, l.seq = leaf(OpColumn), leaf(SeqColumn)
	return l
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// value returns the Parquet value of v in column i of type t, placed at
// its leaf. A DECIMAL that DECIMAL(38, scale) cannot hold exactly is an
// error wrapping schema.ErrBadValue.
func (l *layout) value(i int, t schema.Type, v *schema.Value) (pq.Value, error) {
	idx := l.leaf[i]
	if v.Null {
		return pq.NullValue().Level(0, 0, idx), nil
	}
	var pv pq.Value
	switch t {
	case schema.String:
		pv = pq.ByteArrayValue([]byte(v.Str))
	case schema.Int:
		pv = pq.Int32Value(int32(v.Int))
	case schema.Long:
		pv = pq.Int64Value(v.Int)
	case schema.Double:
		pv = pq.DoubleValue(v.Float)
	case schema.Boolean:
		pv = pq.BooleanValue(v.Bool)
	case schema.Decimal:
		b, err := l.decimal(v.Str)
		if err != nil {
			return pq.Value{}, err
		}
		pv = pq.FixedLenByteArrayValue(b)
	case schema.NaiveDate:
		pv = pq.Int32Value(int32(v.Time.Sub(epoch) / (24 * time.Hour)))
	case schema.UTCDatetime:
		pv = pq.Int64Value(v.Time.UnixMicro())
	case schema.JSON, schema.Binary:
		pv = pq.ByteArrayValue(v.Bytes)
	}
	return pv.Level(0, 1, idx), nil
}

// decimal returns s as a 16-byte big-endian two's complement integer
// scaled by 10^scale.
func (l *layout) decimal(s string) ([]byte, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a decimal", schema.ErrBadValue, s)
	}
	r.Mul(r, new(big.Rat).SetInt(l.pow))
	if !r.IsInt() {
		return nil, fmt.Errorf("%w: %s has more than %d digits after the point of DECIMAL(%d,%d) (see Config.DecimalScale)",
			schema.ErrBadValue, s, l.scale, decimalPrecision, l.scale)
	}
	n := r.Num()
	if new(big.Int).Abs(n).Cmp(l.limit) >= 0 {
		return nil, fmt.Errorf("%w: %s has more than %d digits before the point of DECIMAL(%d,%d)",
			schema.ErrBadValue, s, decimalPrecision-l.scale, decimalPrecision, l.scale)
	}
	b := make([]byte, 16)
	if n.Sign() >= 0 {
		n.FillBytes(b)
		return b, nil
	}
	// Two's complement: 2^128 + n.
	m := new(big.Int).Lsh(big.NewInt(1), 128)
	m.Add(m, n)
	m.FillBytes(b)
	return b, nil
}

// fromParquet returns the schema value of a Parquet value of a column of
// type t.
func (l *layout) fromParquet(t schema.Type, v pq.Value) schema.Value {
	if v.IsNull() {
		return schema.Value{Null: true}
	}
	switch t {
	case schema.String:
		return schema.Value{Str: string(v.ByteArray())}
	case schema.Int:
		return schema.Value{Int: int64(v.Int32())}
	case schema.Long:
		return schema.Value{Int: v.Int64()}
	case schema.Double:
		return schema.Value{Float: v.Double()}
	case schema.Boolean:
		return schema.Value{Bool: v.Boolean()}
	case schema.Decimal:
		n := new(big.Int).SetBytes(v.ByteArray())
		if b := v.ByteArray(); len(b) > 0 && b[0]&0x80 != 0 {
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		return schema.Value{Str: new(big.Rat).SetFrac(n, l.pow).FloatString(l.scale)}
	case schema.NaiveDate:
		return schema.Value{Time: epoch.AddDate(0, 0, int(v.Int32()))}
	case schema.UTCDatetime:
		return schema.Value{Time: time.UnixMicro(v.Int64()).UTC()}
	case schema.JSON, schema.Binary:
		return schema.Value{Bytes: append([]byte(nil), v.ByteArray()...)}
	}
	return schema.Value{Null: true}
}
