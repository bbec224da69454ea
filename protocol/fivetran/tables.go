package fivetran

import (
	"fmt"

	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
	"github.com/pagekit/pagekit/sink/schema"
)

// dataTypes maps pagekit's column types onto the SDK's.
var dataTypes = map[schema.Type]fivetranpb.DataType{
	schema.String:      fivetranpb.DataType_STRING,
	schema.Int:         fivetranpb.DataType_INT,
	schema.Long:        fivetranpb.DataType_LONG,
	schema.Double:      fivetranpb.DataType_DOUBLE,
	schema.Boolean:     fivetranpb.DataType_BOOLEAN,
	schema.Decimal:     fivetranpb.DataType_DECIMAL,
	schema.NaiveDate:   fivetranpb.DataType_NAIVE_DATE,
	schema.UTCDatetime: fivetranpb.DataType_UTC_DATETIME,
	schema.JSON:        fivetranpb.DataType_JSON,
	schema.Binary:      fivetranpb.DataType_BINARY,
}

// tables returns the tables the streams write, each once, in the
// streams' order.
func tables(streams []protocol.Stream) []*fivetranpb.Table {
	var out []*fivetranpb.Table
	seen := make(map[string]bool)
	for _, s := range streams {
		t := s.Table
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		keys := make(map[string]bool, len(t.PrimaryKey))
		for _, k := range t.PrimaryKey {
			keys[k] = true
		}
		tbl := &fivetranpb.Table{Name: t.Name}
		for _, c := range t.Columns {
			tbl.Columns = append(tbl.Columns, &fivetranpb.Column{Name: c.Name, Type: dataTypes[c.Type], PrimaryKey: keys[c.Name]})
		}
		out = append(out, tbl)
	}
	return out
}

// selectTables returns the streams whose tables sel includes, in the
// connector's order, and by table the columns it excludes. A nil
// selection includes every table and column; a table the selection does
// not name is included when it says new tables are; a column its table's
// selection does not name, when it says new columns are. A primary key
// column is always included.
func selectTables(sel *fivetranpb.Selection, streams []protocol.Stream) ([]string, map[string]map[string]bool, error) {
	var tabs []*fivetranpb.TableSelection
	includeNew := true
	switch s := sel.GetSelection().(type) {
	case *fivetranpb.Selection_WithoutSchema:
		tabs, includeNew = s.WithoutSchema.GetTables(), s.WithoutSchema.GetIncludeNewTables()
	case *fivetranpb.Selection_WithSchema:
		includeNew = false
		for _, sc := range s.WithSchema.GetSchemas() {
			if sc.GetIncluded() {
				tabs = append(tabs, sc.GetTables()...)
				includeNew = includeNew || sc.GetIncludeNewTables()
			}
		}
	}
	byName := make(map[string]*fivetranpb.TableSelection, len(tabs))
	for _, t := range tabs {
		byName[t.GetTableName()] = t
	}
	var names []string
	exclude := make(map[string]map[string]bool)
	for _, s := range streams {
		ts, named := byName[s.Table.Name]
		if named && !ts.GetIncluded() || !named && !includeNew {
			continue
		}
		names = append(names, s.Name)
		if !named || len(ts.GetColumns()) == 0 {
			continue
		}
		keys := make(map[string]bool)
		for _, k := range s.Table.PrimaryKey {
			keys[k] = true
		}
		for _, c := range s.Table.Columns {
			in, listed := ts.GetColumns()[c.Name]
			if !keys[c.Name] && (listed && !in || !listed && !ts.GetIncludeNewColumns()) {
				if exclude[s.Table.Name] == nil {
					exclude[s.Table.Name] = make(map[string]bool)
				}
				exclude[s.Table.Name][c.Name] = true
			}
		}
	}
	if len(names) == 0 {
		return nil, nil, &protocol.ConfigError{Err: fmt.Errorf("%w", errNoTable)}
	}
	return names, exclude, nil
}
