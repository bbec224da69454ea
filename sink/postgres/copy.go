package postgres

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/pagekit/pagekit/sink/schema"
)

// copyHeader starts a binary COPY stream: the signature, no flags, no
// header extension.
var copyHeader = []byte("PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000")

// pgEpoch is PostgreSQL's epoch for dates and timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const pgEpochMicros = 946684800 * 1000000 // pgEpoch in Unix microseconds

// appendCopyRows appends the rows of vals to a binary COPY stream in buf,
// in the column types of the temporary table (see tmpType).
func appendCopyRows(buf []byte, types []schema.Type, vals []schema.Value, rows []int) []byte {
	nc := len(types)
	for _, r := range rows {
		buf = binary.BigEndian.AppendUint16(buf, uint16(nc))
		for i, t := range types {
			buf = appendCopyValue(buf, t, &vals[r*nc+i])
		}
	}
	return buf
}

func appendCopyValue(buf []byte, t schema.Type, v *schema.Value) []byte {
	if v.Null {
		return binary.BigEndian.AppendUint32(buf, math.MaxUint32) // -1: NULL
	}
	switch t {
	case schema.String, schema.Decimal:
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.Str)))
		return append(buf, v.Str...)
	case schema.Int:
		buf = binary.BigEndian.AppendUint32(buf, 4)
		return binary.BigEndian.AppendUint32(buf, uint32(int32(v.Int)))
	case schema.Long:
		buf = binary.BigEndian.AppendUint32(buf, 8)
		return binary.BigEndian.AppendUint64(buf, uint64(v.Int))
	case schema.Double:
		buf = binary.BigEndian.AppendUint32(buf, 8)
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(v.Float))
	case schema.Boolean:
		buf = binary.BigEndian.AppendUint32(buf, 1)
		if v.Bool {
			return append(buf, 1)
		}
		return append(buf, 0)
	case schema.NaiveDate:
		// Days since 2000-01-01; the value is midnight UTC.
		days := (v.Time.Unix() - pgEpoch.Unix()) / 86400
		buf = binary.BigEndian.AppendUint32(buf, 4)
		return binary.BigEndian.AppendUint32(buf, uint32(int32(days)))
	case schema.UTCDatetime:
		buf = binary.BigEndian.AppendUint32(buf, 8)
		return binary.BigEndian.AppendUint64(buf, uint64(v.Time.UnixMicro()-pgEpochMicros))
	case schema.JSON:
		// jsonb's binary form is a version byte, then the text.
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.Bytes)+1))
		buf = append(buf, 1)
		return append(buf, v.Bytes...)
	case schema.Binary:
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.Bytes)))
		return append(buf, v.Bytes...)
	}
	panic("postgres: unknown column type " + t.String())
}
