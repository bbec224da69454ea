package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/pagekit/pagekit/sink/schema"
)

// pgType returns the column type of a schema type, as format_type names it.
func pgType(t schema.Type) string {
	switch t {
	case schema.Int:
		return "integer"
	case schema.Long:
		return "bigint"
	case schema.Double:
		return "double precision"
	case schema.Boolean:
		return "boolean"
	case schema.Decimal:
		return "numeric"
	case schema.NaiveDate:
		return "date"
	case schema.UTCDatetime:
		return "timestamp with time zone"
	case schema.JSON:
		return "jsonb"
	case schema.Binary:
		return "bytea"
	}
	return "text"
}

// fits reports whether an existing column of type have (as format_type
// names it) can hold a schema type whose own column type is want.
func fits(have, want string) bool {
	switch want {
	case "text":
		return have == "text" || strings.HasPrefix(have, "character varying")
	case "numeric":
		return strings.HasPrefix(have, "numeric")
	case "jsonb":
		return have == "jsonb" || have == "json"
	}
	return have == want
}

// tmpType is the type of a column in the temporary table COPY writes: the
// column's own type, except numeric, which is sent as text (its binary form
// is costly to build) and cast by the INSERT.
func tmpType(t schema.Type) string {
	if t == schema.Decimal {
		return "text"
	}
	return pgType(t)
}

// ident quotes an SQL identifier.
func ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// queries are a sink's SQL statements.
type queries struct {
	table, state, tmp            string // qualified names
	copy, insert, truncate       string
	save, load                   string
	saveKeys, loadKeys, dropKeys string

	// Prepared statements of the pipelined path, by name.
	upsertName, deleteName, softName, saveName, saveKeysName string
	prepared                                                 []string
}

// stmtSeq numbers the prepared statements of sinks, whose names must
// differ on one pooled connection.
var stmtSeq atomic.Uint64

func (s *Sink[T]) setup(ctx context.Context, cfg Config[T]) error {
	qualify := func(name string) string {
		if cfg.Schema == "" {
			return ident(name)
		}
		return ident(cfg.Schema) + "." + ident(name)
	}
	nsp := cfg.Schema
	if nsp == "" {
		if err := s.conn.QueryRow(ctx, "SELECT current_schema()").Scan(&nsp); err != nil {
			return fmt.Errorf("current schema: %w", err)
		}
	}
	s.stateName = nsp + "." + cfg.StateTable
	h := fnv.New64a()
	h.Write([]byte(nsp + "\x00" + s.table.Name))
	q := &s.q
	q.table, q.state = qualify(s.table.Name), qualify(cfg.StateTable)
	keys := qualify(cfg.StateTable + "_keys")
	q.tmp = fmt.Sprintf("pg_temp.%s", ident(fmt.Sprintf("pagekit_%x", h.Sum64())))

	// Two workers starting at once would race on CREATE ... IF NOT
	// EXISTS; a transaction-level advisory lock serializes the DDL.
	err := pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(h.Sum64())); err != nil {
			return err
		}
		if cfg.Schema != "" {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+ident(cfg.Schema)); err != nil {
				return fmt.Errorf("create schema %q: %w", cfg.Schema, err)
			}
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+q.state+` (
	stream     text PRIMARY KEY,
	checkpoint jsonb NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("create state table %q: %w", cfg.StateTable, err)
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+keys+` (
	stream text NOT NULL,
	items  bigint NOT NULL,
	keys   bytea NOT NULL,
	PRIMARY KEY (stream, items)
)`); err != nil {
			return fmt.Errorf("create keys table %q: %w", cfg.StateTable+"_keys", err)
		}
		return s.createTable(ctx, tx)
	})
	if err != nil {
		return err
	}

	var cols, tmpCols, sel, sets []string
	for _, c := range s.table.Columns {
		cols = append(cols, ident(c.Name))
		tmpCols = append(tmpCols, ident(c.Name)+" "+tmpType(c.Type))
		if c.Type == schema.Decimal {
			sel = append(sel, ident(c.Name)+"::numeric")
		} else {
			sel = append(sel, ident(c.Name))
		}
		if !slices.Contains(s.table.PrimaryKey, c.Name) {
			sets = append(sets, ident(c.Name)+" = EXCLUDED."+ident(c.Name))
		}
	}
	var pk []string
	for _, k := range s.table.PrimaryKey {
		pk = append(pk, ident(k))
	}
	insCols := slices.Clone(cols)
	if s.deleted != "" {
		insCols = append(insCols, ident(s.deleted))
		sel = append(sel, "false")
		sets = append(sets, ident(s.deleted)+" = false")
	}
	// The temporary table lives as long as the session; ON COMMIT DELETE
	// ROWS empties it at each commit.
	if _, err := s.conn.Exec(ctx, "CREATE TEMPORARY TABLE IF NOT EXISTS "+q.tmp+" ("+strings.Join(tmpCols, ", ")+") ON COMMIT DELETE ROWS"); err != nil {
		return fmt.Errorf("create temporary table: %w", err)
	}
	q.copy = "COPY " + q.tmp + " (" + strings.Join(cols, ", ") + ") FROM STDIN BINARY"
	q.insert = "INSERT INTO " + q.table + " (" + strings.Join(insCols, ", ") + ") SELECT " + strings.Join(sel, ", ") +
		" FROM " + q.tmp + " ON CONFLICT (" + strings.Join(pk, ", ") + ") DO "
	if len(sets) == 0 {
		q.insert += "NOTHING"
	} else {
		q.insert += "UPDATE SET " + strings.Join(sets, ", ")
	}
	q.truncate = "TRUNCATE " + q.tmp

	q.save = "INSERT INTO " + q.state + " (stream, checkpoint, updated_at) VALUES ($1, $2::text::jsonb, now()) " +
		"ON CONFLICT (stream) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = EXCLUDED.updated_at"
	q.load = "SELECT checkpoint::text FROM " + q.state + " WHERE stream = $1"
	q.saveKeys = "INSERT INTO " + keys + " (stream, items, keys) VALUES ($1, $2, $3) " +
		"ON CONFLICT (stream, items) DO UPDATE SET keys = EXCLUDED.keys"
	q.loadKeys = "SELECT keys FROM " + keys + " WHERE stream = $1"
	q.dropKeys = "DELETE FROM " + keys + " WHERE stream = $1 AND items > $2"
	return s.prepare(ctx, pk, insCols, sets)
}

// prepare prepares the statements of the pipelined path.
func (s *Sink[T]) prepare(ctx context.Context, keys, insCols, sets []string) error {
	q := &s.q
	for i := range s.cols {
		s.allIdx = append(s.allIdx, i)
	}
	prefix := fmt.Sprintf("pagekit_%d_", stmtSeq.Add(1))
	from, sel := unnestSQL(s.cols, s.allIdx, 1)
	if s.deleted != "" {
		sel = append(sel, "false")
	}
	upsert := "INSERT INTO " + q.table + " (" + strings.Join(insCols, ", ") + ") SELECT " + strings.Join(sel, ", ") +
		" FROM " + from + " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO "
	if len(sets) == 0 {
		upsert += "NOTHING"
	} else {
		upsert += "UPDATE SET " + strings.Join(sets, ", ")
	}
	kfrom, ksel := unnestSQL(s.cols, s.keyIdx, 1)
	var match []string
	for n, i := range s.keyIdx {
		match = append(match, "t."+ident(s.table.Columns[i].Name)+" = "+ksel[n])
	}
	where := strings.Join(match, " AND ")
	stmts := []struct {
		name *string
		sql  string
		oids []uint32
	}{
		{&q.upsertName, upsert, s.arrayOIDs(s.allIdx)},
		{&q.deleteName, "DELETE FROM " + q.table + " AS t USING " + kfrom + " WHERE " + where, s.arrayOIDs(s.keyIdx)},
		{&q.saveName, q.save, []uint32{oidText, oidText}},
		{&q.saveKeysName, q.saveKeys, []uint32{oidText, oidInt8, oidBytea}},
	}
	if s.deleted != "" {
		stmts = append(stmts, struct {
			name *string
			sql  string
			oids []uint32
		}{&q.softName, "UPDATE " + q.table + " AS t SET " + ident(s.deleted) + " = true FROM " + kfrom + " WHERE " + where, s.arrayOIDs(s.keyIdx)})
	}
	for i, st := range stmts {
		*st.name = fmt.Sprintf("%s%d", prefix, i)
		if _, err := s.conn.PgConn().Prepare(ctx, *st.name, st.sql, st.oids); err != nil {
			return fmt.Errorf("prepare %s: %w", st.sql, err)
		}
		q.prepared = append(q.prepared, *st.name)
	}
	return nil
}

func (s *Sink[T]) arrayOIDs(idx []int) []uint32 {
	oids := make([]uint32, len(idx))
	for n, i := range idx {
		oids[n] = arrayOID[elemOID(s.cols[i])]
	}
	return oids
}

// createTable creates the sink's table, or checks an existing one and adds
// the columns it lacks.
func (s *Sink[T]) createTable(ctx context.Context, tx pgx.Tx) error {
	t := &s.table
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1::text) IS NOT NULL", s.q.table).Scan(&exists); err != nil {
		return fmt.Errorf("look up table: %w", err)
	}
	if !exists {
		var b strings.Builder
		b.WriteString("CREATE TABLE " + s.q.table + " (\n")
		for _, c := range t.Columns {
			b.WriteString("\t" + ident(c.Name) + " " + pgType(c.Type))
			if slices.Contains(t.PrimaryKey, c.Name) {
				b.WriteString(" NOT NULL")
			}
			b.WriteString(",\n")
		}
		if s.deleted != "" {
			b.WriteString("\t" + ident(s.deleted) + " boolean NOT NULL DEFAULT false,\n")
		}
		var keys []string
		for _, k := range t.PrimaryKey {
			keys = append(keys, ident(k))
		}
		b.WriteString("\tPRIMARY KEY (" + strings.Join(keys, ", ") + ")\n)")
		if _, err := tx.Exec(ctx, b.String()); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
		return nil
	}

	rows, err := tx.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, s.q.table)
	if err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	have := map[string]string{}
	var names []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return fmt.Errorf("read columns: %w", err)
		}
		have[name] = typ
		names = append(names, name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	var pk []string
	rows, err = tx.Query(ctx, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
		WHERE i.indrelid = $1::text::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`, s.q.table)
	if err != nil {
		return fmt.Errorf("read primary key: %w", err)
	}
	if pk, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return fmt.Errorf("read primary key: %w", err)
	}
	if !slices.Equal(pk, t.PrimaryKey) {
		return fmt.Errorf("%w: primary key is %q, schema says %q", schema.ErrTableMismatch, pk, t.PrimaryKey)
	}
	add := func(name, def string) error {
		if i := slices.IndexFunc(names, func(n string) bool { return strings.EqualFold(n, name) }); i >= 0 {
			return fmt.Errorf("%w: the table has column %q, not %q (quoted names are case-sensitive)", schema.ErrTableMismatch, names[i], name)
		}
		if _, err := tx.Exec(ctx, "ALTER TABLE "+s.q.table+" ADD COLUMN "+ident(name)+" "+def); err != nil {
			return fmt.Errorf("add column %q: %w", name, err)
		}
		return nil
	}
	for _, c := range t.Columns {
		typ, ok := have[c.Name]
		if !ok {
			if err := add(c.Name, pgType(c.Type)); err != nil {
				return err
			}
			continue
		}
		if want := pgType(c.Type); !fits(typ, want) {
			return fmt.Errorf("%w: column %q is %s, schema type %v needs %s", schema.ErrTableMismatch, c.Name, typ, c.Type, want)
		}
	}
	if s.deleted != "" {
		typ, ok := have[s.deleted]
		if !ok {
			return add(s.deleted, "boolean NOT NULL DEFAULT false")
		}
		if typ != "boolean" {
			return fmt.Errorf("%w: deleted column %q is %s, not boolean", schema.ErrTableMismatch, s.deleted, typ)
		}
	}
	return nil
}
