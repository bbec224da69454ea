package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

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
	table, state, tmp      string // qualified names
	copy, insert, truncate string
	del, soft              string
	save, load             string
}

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
	var keys []string
	for _, k := range s.table.PrimaryKey {
		keys = append(keys, ident(k))
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
		" FROM " + q.tmp + " ON CONFLICT (" + strings.Join(keys, ", ") + ") DO "
	if len(sets) == 0 {
		q.insert += "NOTHING"
	} else {
		q.insert += "UPDATE SET " + strings.Join(sets, ", ")
	}
	q.truncate = "TRUNCATE " + q.tmp

	// Deletes take arrays of keys, one per key column, and unnest them.
	var arrays, match []string
	for n, i := range s.keyIdx {
		c := s.table.Columns[i]
		arrays = append(arrays, fmt.Sprintf("$%d::%s[]", n+1, keyArrayType(c.Type)))
		m := "t." + ident(c.Name) + " = k.k" + fmt.Sprint(n)
		if c.Type == schema.Decimal {
			m += "::numeric"
		}
		match = append(match, m)
	}
	var kcols []string
	for n := range s.keyIdx {
		kcols = append(kcols, fmt.Sprintf("k%d", n))
	}
	from := "unnest(" + strings.Join(arrays, ", ") + ") AS k(" + strings.Join(kcols, ", ") + ")"
	q.del = "DELETE FROM " + q.table + " AS t USING " + from + " WHERE " + strings.Join(match, " AND ")
	if s.deleted != "" {
		q.soft = "UPDATE " + q.table + " AS t SET " + ident(s.deleted) + " = true FROM " + from + " WHERE " + strings.Join(match, " AND ")
	}
	q.save = "INSERT INTO " + q.state + " (stream, checkpoint, updated_at) VALUES ($1, $2::text::jsonb, now()) " +
		"ON CONFLICT (stream) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = EXCLUDED.updated_at"
	q.load = "SELECT checkpoint::text FROM " + q.state + " WHERE stream = $1"
	return nil
}

// keyArrayType is the array element type that carries keys of type t to a
// delete: the column's type, except numeric and jsonb keys, which travel as
// text.
func keyArrayType(t schema.Type) string {
	switch t {
	case schema.Decimal, schema.JSON:
		return "text"
	}
	return pgType(t)
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
