package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/pagekit/pagekit/sink/schema"
)

// createState creates the checkpoint table if it does not exist. A
// checkpoint is kept as the JSON of the whole paginate.Checkpoint, so that
// fields the runner adds later survive a save and a load.
func createState(ctx context.Context, conn *sql.Conn, name string) error {
	q := "CREATE TABLE IF NOT EXISTS " + ident(name) + ` (
	stream     TEXT NOT NULL PRIMARY KEY,
	checkpoint TEXT NOT NULL,
	updated_at TEXT NOT NULL
) STRICT`
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create state table %q: %w", name, err)
	}
	return nil
}

// createTable creates t, or checks an existing table against it and adds
// the columns it lacks.
func createTable(ctx context.Context, conn *sql.Conn, t *schema.Table, deleted string) error {
	existing, err := tableInfo(ctx, conn, t.Name)
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		_, err := conn.ExecContext(ctx, createSQL(t, deleted))
		return err
	}
	keys := make([]string, 0, len(t.PrimaryKey))
	for _, c := range existing {
		if c.pk > 0 {
			keys = append(keys, c.name)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		return existingPK(existing, a) - existingPK(existing, b)
	})
	if !slices.EqualFunc(keys, t.PrimaryKey, strings.EqualFold) {
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
		i := slices.IndexFunc(existing, func(e colInfo) bool { return strings.EqualFold(e.name, c.Name) })
		if i < 0 {
			if err := add(c.Name, sqlType(c.Type)); err != nil {
				return err
			}
			continue
		}
		if want := sqlType(c.Type); !strings.EqualFold(existing[i].typ, want) {
			return fmt.Errorf("%w: column %q is %s, schema type %v needs %s", schema.ErrTableMismatch, c.Name, existing[i].typ, c.Type, want)
		}
	}
	if deleted != "" {
		i := slices.IndexFunc(existing, func(e colInfo) bool { return strings.EqualFold(e.name, deleted) })
		if i < 0 {
			return add(deleted, "INTEGER NOT NULL DEFAULT 0")
		}
		if !strings.EqualFold(existing[i].typ, "INTEGER") {
			return fmt.Errorf("%w: deleted column %q is %s, not INTEGER", schema.ErrTableMismatch, deleted, existing[i].typ)
		}
	}
	return nil
}

func existingPK(cols []colInfo, name string) int {
	i := slices.IndexFunc(cols, func(c colInfo) bool { return c.name == name })
	return cols[i].pk
}

type colInfo struct {
	name, typ string
	pk        int // 1-based position in the primary key, 0 if not in it
}

func tableInfo(ctx context.Context, conn *sql.Conn, table string) ([]colInfo, error) {
	rows, err := conn.QueryContext(ctx, "SELECT name, type, pk FROM pragma_table_info(?)", table)
	if err != nil {
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

// createSQL returns the CREATE TABLE statement for t. The table is STRICT,
// so SQLite refuses a value of the wrong storage class instead of keeping
// it. It is a rowid table, even for a text key: records of a few hundred
// bytes insert faster into a rowid table and a separate key index than into
// a WITHOUT ROWID table clustered by the key, three times as fast when keys
// arrive in random order (see docs/performance.md).
func createSQL(t *schema.Table, deleted string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + ident(t.Name) + " (\n")
	for _, c := range t.Columns {
		b.WriteString("\t" + ident(c.Name) + " " + sqlType(c.Type))
		if slices.Contains(t.PrimaryKey, c.Name) {
			b.WriteString(" NOT NULL")
		}
		b.WriteString(",\n")
	}
	if deleted != "" {
		b.WriteString("\t" + ident(deleted) + " INTEGER NOT NULL DEFAULT 0,\n")
	}
	keys := make([]string, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		keys[i] = ident(k)
	}
	b.WriteString("\tPRIMARY KEY (" + strings.Join(keys, ", ") + ")\n) STRICT")
	return b.String()
}

// upsertSQL returns the INSERT ... ON CONFLICT statement for n rows.
//
// Unless careful, it is INSERT OR ROLLBACK: a row that a constraint
// refuses ends the whole transaction, which the sink would roll back
// anyway, so SQLite keeps no statement journal (a copy of every page the
// statement changes, in case it has to undo only itself). The careful
// statement undoes only itself, so that the sink can look for the row.
func upsertSQL(t *schema.Table, deleted string, n int, careful bool) string {
	var b strings.Builder
	b.WriteString("INSERT ")
	if !careful {
		b.WriteString("OR ROLLBACK ")
	}
	b.WriteString("INTO " + ident(t.Name) + " (")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(ident(c.Name))
	}
	if deleted != "" {
		b.WriteString(", " + ident(deleted))
	}
	b.WriteString(") VALUES ")
	row := "(" + strings.Repeat("?, ", len(t.Columns)-1) + "?"
	if deleted != "" {
		row += ", 0"
	}
	row += ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	keys := make([]string, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		keys[i] = ident(k)
	}
	b.WriteString(" ON CONFLICT (" + strings.Join(keys, ", ") + ") DO ")
	var sets []string
	for _, c := range t.Columns {
		if !slices.Contains(t.PrimaryKey, c.Name) {
			sets = append(sets, ident(c.Name)+" = excluded."+ident(c.Name))
		}
	}
	if deleted != "" {
		sets = append(sets, ident(deleted)+" = 0")
	}
	if len(sets) == 0 {
		b.WriteString("NOTHING")
	} else {
		b.WriteString("UPDATE SET " + strings.Join(sets, ", "))
	}
	return b.String()
}
