package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
)

// Type OIDs of the array parameters and their elements.
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt4        = 23
	oidText        = 25
	oidFloat8      = 701
	oidDate        = 1082
	oidTimestamptz = 1184
	oidJSONB       = 3802
)

var arrayOID = map[uint32]uint32{
	oidBool: 1000, oidBytea: 1001, oidInt8: 1016, oidInt4: 1007, oidText: 1009,
	oidFloat8: 1022, oidDate: 1182, oidTimestamptz: 1185, oidJSONB: 3807,
}

// elemOID is the OID of the array element that carries a column of type
// t: its own type, except numeric, which travels as text.
func elemOID(t schema.Type) uint32 {
	switch t {
	case schema.Int:
		return oidInt4
	case schema.Long:
		return oidInt8
	case schema.Double:
		return oidFloat8
	case schema.Boolean:
		return oidBool
	case schema.NaiveDate:
		return oidDate
	case schema.UTCDatetime:
		return oidTimestamptz
	case schema.JSON:
		return oidJSONB
	case schema.Binary:
		return oidBytea
	}
	return oidText
}

// unnestSQL returns "unnest($1::text[], ...) AS u(c0, ...)" for the columns
// at idx, numbering parameters from first, and the select list that casts
// them back to the table's types.
func unnestSQL(types []schema.Type, idx []int, first int) (from string, sel []string) {
	var params, names []string
	for n, i := range idx {
		name := fmt.Sprintf("c%d", n)
		params = append(params, fmt.Sprintf("$%d::%s[]", first+n, oidName[elemOID(types[i])]))
		names = append(names, name)
		if types[i] == schema.Decimal {
			name += "::numeric"
		}
		sel = append(sel, "u."+name)
	}
	return "unnest(" + strings.Join(params, ", ") + ") AS u(" + strings.Join(names, ", ") + ")", sel
}

var oidName = map[uint32]string{
	oidBool: "boolean", oidBytea: "bytea", oidInt8: "bigint", oidInt4: "integer", oidText: "text",
	oidFloat8: "double precision", oidDate: "date", oidTimestamptz: "timestamptz", oidJSONB: "jsonb",
}

// appendArray appends the binary form of a one-dimensional array of the
// values of column col of rows.
func appendArray(buf []byte, t schema.Type, vals []schema.Value, nc, col int, rows []int) []byte {
	hasNull := uint32(0)
	for _, r := range rows {
		if vals[r*nc+col].Null {
			hasNull = 1
			break
		}
	}
	buf = binary.BigEndian.AppendUint32(buf, 1) // dimensions
	buf = binary.BigEndian.AppendUint32(buf, hasNull)
	buf = binary.BigEndian.AppendUint32(buf, elemOID(t))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(rows)))
	buf = binary.BigEndian.AppendUint32(buf, 1) // lower bound
	for _, r := range rows {
		buf = appendCopyValue(buf, t, &vals[r*nc+col])
	}
	return buf
}

// params encodes the arrays of columns idx of rows as binary parameters,
// appended to s.params and s.buf.
func (s *Sink[T]) arrayParams(vals []schema.Value, rows []int, idx []int) [][]byte {
	nc := len(s.cols)
	start := len(s.params)
	for _, c := range idx {
		from := len(s.buf)
		s.buf = appendArray(s.buf, s.cols[c], vals, nc, c, rows)
		s.params = append(s.params, s.buf[from:len(s.buf):len(s.buf)])
	}
	return s.params[start:]
}

// writePipelined sends the whole page, from BEGIN to COMMIT, in one round
// trip: each run is one prepared statement whose parameters are arrays of
// the run's column values, unnested by the server. It returns the index of
// the run that failed, or -1. When open, the transaction is already open
// and stays so: the round trip holds neither BEGIN nor COMMIT.
func (s *Sink[T]) writePipelined(ctx context.Context, vals []schema.Value, runs []batch.Run, cp *paginate.Checkpoint, cpText []byte, open bool) (int, error) {
	var b pgconn.Batch
	s.buf, s.params = s.buf[:0], s.params[:0]
	first := 0 // the result of the first run
	if !open {
		b.ExecParams("BEGIN", nil, nil, nil, nil)
		first = 1
	}
	for _, r := range runs {
		s.queueRun(&b, vals, r.Op, r.Rows)
	}
	if cp != nil {
		b.ExecPrepared(s.q.saveName, [][]byte{[]byte(cp.Stream), cpText}, nil, nil)
		s.queueKeys(&b, cp.Stream)
	}
	if !open {
		// The page and its COMMIT go in one round trip; ctx is apply's,
		// which no cancel ends (see commitContext).
		b.ExecParams("COMMIT", nil, nil, nil, nil)
	}
	results, err := s.conn.PgConn().ExecBatch(ctx, &b).ReadAll()
	if err != nil {
		err = s.fail(err)
		// results holds the statements that completed: BEGIN and the
		// runs before the one that failed.
		if i := len(results) - first; i >= 0 && i < len(runs) {
			return i, s.runError(runs[i], err)
		}
		return -1, fmt.Errorf("postgres: table %q: %w", s.table.Name, err)
	}
	return -1, nil
}

// queueRun queues the statement of one run.
func (s *Sink[T]) queueRun(b *pgconn.Batch, vals []schema.Value, op schema.Op, rows []int) {
	name, idx := s.q.upsertName, s.allIdx
	switch op {
	case schema.Delete:
		name, idx = s.q.deleteName, s.keyIdx
	case schema.SoftDelete:
		name, idx = s.q.softName, s.keyIdx
	}
	params := s.arrayParams(vals, rows, idx)
	b.ExecPrepared(name, params, s.binary(len(params)), nil)
}

func (s *Sink[T]) binary(n int) []int16 {
	for len(s.formats) < n {
		s.formats = append(s.formats, 1)
	}
	return s.formats[:n]
}

// locate finds the record of run failed that the database refuses, by
// replaying the page up to that run, then the run one row a statement, in
// a transaction it rolls back. It returns nil when the replay does not
// fail in that run.
func (s *Sink[T]) locate(ctx context.Context, vals []schema.Value, runs []batch.Run, failed int) *schema.RecordError {
	var b pgconn.Batch
	s.buf, s.params = s.buf[:0], s.params[:0]
	b.ExecParams("BEGIN", nil, nil, nil, nil)
	for _, r := range runs[:failed] {
		s.queueRun(&b, vals, r.Op, r.Rows)
	}
	r := runs[failed]
	for i := range r.Rows {
		s.queueRun(&b, vals, r.Op, r.Rows[i:i+1])
	}
	results, err := s.conn.PgConn().ExecBatch(ctx, &b).ReadAll()
	if s.conn.IsClosed() {
		return nil
	}
	// The statements after a failure did not run; the transaction is
	// open, aborted or not.
	if _, rerr := s.conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil || err == nil {
		return nil
	}
	k := len(results) - 1 - failed // rows of the run that went in
	if k < 0 || k >= len(r.Rows) {
		return nil
	}
	row := r.Rows[k]
	nc := len(s.cols)
	re := &schema.RecordError{Table: s.table.Name, Index: row, Key: s.b.Mapping.Key(vals[row*nc : (row+1)*nc]), Err: withDetail(err)}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		re.Column = pe.ColumnName
		// A value the server cannot read names its parameter, which is
		// the array of one column.
		if m := paramWhere.FindStringSubmatch(pe.Where); m != nil {
			idx := s.allIdx
			if r.Op != schema.Upsert {
				idx = s.keyIdx
			}
			if n, _ := strconv.Atoi(m[1]); n >= 1 && n <= len(idx) {
				re.Column = s.table.Columns[idx[n-1]].Name
			}
		}
	}
	return re
}

var paramWhere = regexp.MustCompile(`(?m)^unnamed portal parameter \$(\d+)`)
