package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Table describes a destination table: its name, its primary key and its
// typed columns, in order.
type Table struct {
	Name string `json:"table"`
	// PrimaryKey names the key columns, in key order. Every table needs
	// one, because sinks upsert by it.
	PrimaryKey []string `json:"primary_key"`
	Columns    []Column `json:"columns"`
}

// Column is one column of a [Table].
type Column struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Validate reports the first problem with t: a missing name, a column
// without a valid type, two columns whose names differ only in case (SQLite
// does not tell them apart), or a primary key that is empty or names a
// column t does not have.
func (t *Table) Validate() error {
	if t.Name == "" {
		return errors.New("schema: table has no name")
	}
	if strings.IndexByte(t.Name, 0) >= 0 {
		return fmt.Errorf("schema: table name %q contains a NUL byte", t.Name)
	}
	if len(t.Columns) == 0 {
		return fmt.Errorf("schema: table %q has no columns", t.Name)
	}
	seen := make(map[string]string, len(t.Columns))
	for _, c := range t.Columns {
		if c.Name == "" || strings.IndexByte(c.Name, 0) >= 0 {
			return fmt.Errorf("schema: table %q: invalid column name %q", t.Name, c.Name)
		}
		if !c.Type.Valid() {
			return fmt.Errorf("schema: table %q: column %q has no valid type (%v)", t.Name, c.Name, c.Type)
		}
		low := strings.ToLower(c.Name)
		if prev, dup := seen[low]; dup {
			return fmt.Errorf("schema: table %q: columns %q and %q have the same name", t.Name, prev, c.Name)
		}
		seen[low] = c.Name
	}
	if len(t.PrimaryKey) == 0 {
		return fmt.Errorf("schema: table %q has no primary key", t.Name)
	}
	for i, k := range t.PrimaryKey {
		if t.ColumnIndex(k) < 0 {
			return fmt.Errorf("schema: table %q: primary key column %q is not a column", t.Name, k)
		}
		if slices.Contains(t.PrimaryKey[:i], k) {
			return fmt.Errorf("schema: table %q: primary key names %q twice", t.Name, k)
		}
	}
	return nil
}

// ColumnIndex returns the index of the column named name, or -1.
func (t *Table) ColumnIndex(name string) int {
	return slices.IndexFunc(t.Columns, func(c Column) bool { return c.Name == name })
}

// KeyIndex returns the column index of each primary key column, in key
// order. t must be valid.
func (t *Table) KeyIndex() []int {
	idx := make([]int, len(t.PrimaryKey))
	for i, k := range t.PrimaryKey {
		idx[i] = t.ColumnIndex(k)
	}
	return idx
}

// clone returns a deep copy of t, so that a Mapping's table cannot change
// under it.
func (t Table) clone() Table {
	t.PrimaryKey = slices.Clone(t.PrimaryKey)
	t.Columns = slices.Clone(t.Columns)
	return t
}
