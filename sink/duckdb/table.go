package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/pagekit/pagekit/sink/schema"
)

// createState creates the checkpoint table if it does not exist: the
// layout of the SQLite sink's, a checkpoint kept as the JSON text of the
// whole paginate.Checkpoint.
func createState(ctx context.Context, conn *sql.Conn, name string) error {
	q := "CREATE TABLE IF NOT EXISTS " + ident(name) + ` (
	stream     VARCHAR NOT NULL PRIMARY KEY,
	checkpoint VARCHAR NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
)`
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create state table %q: %w", name, err)
	}
	return nil
}

type colInfo struct {
	name, typ string
	pk        bool
}

func tableInfo(ctx context.Context, conn *sql.Conn, table string) ([]colInfo, error) {
	rows, err := conn.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info("+literal(table)+")")
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return nil, nil
		}
		return nil, fmt.Errorf("read table info: %w", err)
	}
	defer rows.Close()
	var cols []colInfo
	for rows.Next() {
		var c colInfo
		if err := rows.Scan(&c.name, &c.typ, &c.pk); err != nil {
			return nil, fmt.Errorf("read table info: %w", err)
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// createTable creates t, or checks an existing table against it and adds
// the columns it lacks.
func createTable(ctx context.Context, conn *sql.Conn, t *schema.Table, deleted string, scale int) error {
	existing, err := tableInfo(ctx, conn, t.Name)
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		_, err := conn.ExecContext(ctx, createSQL(t, deleted, scale))
		return err
	}
	var keys []string
	for _, c := range existing {
		if c.pk {
			keys = append(keys, c.name)
		}
	}
	// pragma_table_info lists the key's columns in table order; compare
	// them as a set, as DuckDB keys them.
	want := slices.Clone(t.PrimaryKey)
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.EqualFunc(keys, want, strings.EqualFold) {
		return fmt.Errorf("%w: primary key is %q, schema says %q", schema.ErrTableMismatch, keys, t.PrimaryKey)
	}
	add := func(name, def string) error {
		_, err := conn.ExecContext(ctx, "ALTER TABLE "+ident(t.Name)+" ADD COLUMN "+ident(name)+" "+def)
		if err != nil {
			return fmt.Errorf("add column %q: %w", name, err)
		}
		return nil
	}
	for _, c := range t.Columns {
		want := sqlType(c.Type, scale)
		i := slices.IndexFunc(existing, func(e colInfo) bool { return strings.EqualFold(e.name, c.Name) })
		if i < 0 {
			if err := add(c.Name, want); err != nil {
				return err
			}
			continue
		}
		if !sameType(existing[i].typ, want) {
			return fmt.Errorf("%w: column %q is %s, schema type %v needs %s", schema.ErrTableMismatch, c.Name, existing[i].typ, c.Type, want)
		}
	}
	if deleted != "" {
		i := slices.IndexFunc(existing, func(e colInfo) bool { return strings.EqualFold(e.name, deleted) })
		if i < 0 {
			return add(deleted, "BOOLEAN NOT NULL DEFAULT false")
		}
		if !sameType(existing[i].typ, "BOOLEAN") {
			return fmt.Errorf("%w: deleted column %q is %s, not BOOLEAN", schema.ErrTableMismatch, deleted, existing[i].typ)
		}
	}
	return nil
}

// createSQL returns the CREATE TABLE statement for t.
func createSQL(t *schema.Table, deleted string, scale int) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + ident(t.Name) + " (\n")
	for _, c := range t.Columns {
		b.WriteString("\t" + ident(c.Name) + " " + sqlType(c.Type, scale))
		if slices.Contains(t.PrimaryKey, c.Name) {
			b.WriteString(" NOT NULL")
		}
		b.WriteString(",\n")
	}
	if deleted != "" {
		b.WriteString("\t" + ident(deleted) + " BOOLEAN NOT NULL DEFAULT false,\n")
	}
	b.WriteString("\tPRIMARY KEY (" + identList(t.PrimaryKey) + ")\n)")
	return b.String()
}

func identList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = ident(n)
	}
	return strings.Join(q, ", ")
}

// The appenders' statements. An appender holds its rows in a temporary
// table, appended_data, whose columns are col1, col2, ... in the order of
// the columns it was made for, and runs its statement over them on Flush.

// upsertSQL returns the statement of the upsert appender, whose rows have
// every schema column. It is INSERT OR REPLACE, which sets every column it
// inserts on a key that exists (and the deleted column to false), a little
// faster than the same ON CONFLICT DO UPDATE naming them; DuckDB takes it
// only on a table whose one unique constraint is its primary key, so a
// table with more (made by someone else) gets ON CONFLICT (key) DO UPDATE.
// A table whose columns are all in its key has nothing to update.
func upsertSQL(t *schema.Table, deleted string, moreUnique bool) string {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = ident(c.Name)
	}
	sel := "*"
	if deleted != "" {
		cols = append(cols, ident(deleted))
		sel = "*, false"
	}
	var sets []string
	for _, c := range t.Columns {
		if !slices.Contains(t.PrimaryKey, c.Name) {
			sets = append(sets, ident(c.Name)+" = excluded."+ident(c.Name))
		}
	}
	if deleted != "" {
		sets = append(sets, ident(deleted)+" = false")
	}
	insert := ident(t.Name) + " (" + strings.Join(cols, ", ") + ") SELECT " + sel + " FROM appended_data"
	switch {
	case len(sets) == 0:
		return "INSERT OR IGNORE INTO " + insert
	case !moreUnique:
		return "INSERT OR REPLACE INTO " + insert
	}
	return "INSERT INTO " + insert + " ON CONFLICT (" + identList(t.PrimaryKey) + ") DO UPDATE SET " + strings.Join(sets, ", ")
}

// uniqueConstraints returns the number of UNIQUE and PRIMARY KEY
// constraints of table.
func uniqueConstraints(ctx context.Context, conn *sql.Conn, table string) (int, error) {
	var n int
	err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_constraints()
		WHERE table_name = ? AND schema_name = current_schema() AND constraint_type IN ('UNIQUE', 'PRIMARY KEY')`, table).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read the table's constraints: %w", err)
	}
	return n, nil
}

// keyMatch is the condition that matches a row of t to a row of
// appended_data, whose columns are t's key columns.
func keyMatch(t *schema.Table) string {
	var where []string
	for i, k := range t.PrimaryKey {
		where = append(where, fmt.Sprintf("%s.%s = appended_data.col%d", ident(t.Name), ident(k), i+1))
	}
	return strings.Join(where, " AND ")
}

// deleteSQL returns the statement of the delete appender, whose rows are
// keys.
func deleteSQL(t *schema.Table) string {
	return "DELETE FROM " + ident(t.Name) + " USING appended_data WHERE " + keyMatch(t)
}

// softDeleteSQL returns the statement of the soft-delete appender, whose
// rows are keys.
func softDeleteSQL(t *schema.Table, deleted string) string {
	return "UPDATE " + ident(t.Name) + " SET " + ident(deleted) + " = true FROM appended_data WHERE " + keyMatch(t)
}
