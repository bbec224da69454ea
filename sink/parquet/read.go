package parquet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
	pq "github.com/parquet-go/parquet-go"
)

// version is a key's current row: the last of its rows in commit order.
type version struct {
	seq  int64
	del  bool
	vals []schema.Value // in the manifest's column order
}

// current reads the files man lists and returns each key's current
// version, deletes included, by key.
func current(ctx context.Context, st Storage, man *Manifest) (map[string]*version, error) {
	t := &man.Table
	keyIdx := t.KeyIndex()
	lay := newLayout(t, fileSchema(t, man.DecimalScale), man.DecimalScale)
	out := make(map[string]*version)
	var buf []byte
	for _, fi := range man.Files {
		err := readFile(ctx, st, fi.Name, t, &lay, func(v *version) {
			var k string
			k, buf = batch.Key(v.vals, keyIdx, t.Columns, buf)
			if old, ok := out[k]; !ok || old.seq <= v.seq {
				out[k] = v
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readFile calls f with each row of the file name, in order.
func readFile(ctx context.Context, st Storage, name string, t *schema.Table, lay *layout, f func(*version)) error {
	file, err := st.Open(ctx, name)
	if err != nil {
		return fmt.Errorf("parquet: open %s: %w", name, err)
	}
	defer file.Close()
	pf, err := pq.OpenFile(file, file.Size())
	if err != nil {
		return fmt.Errorf("parquet: read %s: %w", name, err)
	}
	// Where each column of the table is in this file: an older file
	// lacks the columns added after it.
	leaf := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		leaf[i] = -1
		if lc, ok := pf.Schema().Lookup(c.Name); ok {
			leaf[i] = lc.ColumnIndex
		}
	}
	opc, ok1 := pf.Schema().Lookup(OpColumn)
	seqc, ok2 := pf.Schema().Lookup(SeqColumn)
	if !ok1 || !ok2 {
		return fmt.Errorf("parquet: %s has no %s or %s column", name, OpColumn, SeqColumn)
	}
	rows := make([]pq.Row, 128)
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		for {
			n, err := rr.ReadRows(rows)
			for _, r := range rows[:n] {
				byCol := make([]pq.Value, len(pf.Schema().Columns()))
				for _, v := range r {
					byCol[v.Column()] = v
				}
				v := &version{
					seq:  byCol[seqc.ColumnIndex].Int64(),
					del:  string(byCol[opc.ColumnIndex].ByteArray()) == "delete",
					vals: make([]schema.Value, len(t.Columns)),
				}
				for i, c := range t.Columns {
					if leaf[i] < 0 {
						v.vals[i] = schema.Value{Null: true}
						continue
					}
					v.vals[i] = lay.fromParquet(c.Type, byCol[leaf[i]])
				}
				f(v)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rr.Close()
				return fmt.Errorf("parquet: read %s: %w", name, err)
			}
		}
		if err := rr.Close(); err != nil {
			return fmt.Errorf("parquet: read %s: %w", name, err)
		}
	}
	return nil
}

// ReadTable reads the table in st as its readers see it: the manifest,
// then, of each key, the row of the last commit that wrote it, unless that
// commit deleted it. Rows map column names to Go values: string, int64,
// float64, bool, the decimal as text, time.Time (dates at midnight UTC),
// JSON text as a string, []byte; NULL is nil. They come sorted by key. It
// needs no lock and sees the table as of one commit, while a writer goes
// on, Compact included: a listed file that a Compact removed after the
// manifest was read sends it back to the manifest. It holds the whole table
// in memory: it is for tests and small tables; query large ones with DuckDB
// (see the package documentation).
func ReadTable(ctx context.Context, st Storage) (Manifest, []map[string]any, error) {
	man, cur, err := readCurrent(ctx, st)
	if err != nil {
		return man, nil, err
	}
	keys := sortedKeys(cur)
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		v := cur[k]
		if v.del {
			continue
		}
		r := make(map[string]any, len(v.vals))
		for i, c := range man.Table.Columns {
			r[c.Name] = goValue(c.Type, v.vals[i])
		}
		out = append(out, r)
	}
	return man, out, nil
}

// readCurrent reads the manifest and the current version of each key.
// A file the manifest lists that no longer exists was replaced by a
// Compact after the manifest was read: the manifest then lists other files,
// and the read starts over from it. Only a manifest that still lists the
// missing file makes that an error.
func readCurrent(ctx context.Context, st Storage) (Manifest, map[string]*version, error) {
	for {
		man, _, err := ReadManifest(ctx, st)
		if err != nil {
			return Manifest{}, nil, err
		}
		cur, err := current(ctx, st, &man)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return man, cur, err
		}
		now, _, merr := ReadManifest(ctx, st)
		if merr != nil || now.Seq == man.Seq || ctx.Err() != nil {
			return man, nil, err
		}
	}
}

func sortedKeys(cur map[string]*version) []string {
	keys := make([]string, 0, len(cur))
	for k := range cur {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}

func goValue(t schema.Type, v schema.Value) any {
	if v.Null {
		return nil
	}
	switch t {
	case schema.String, schema.Decimal:
		return v.Str
	case schema.Int, schema.Long:
		return v.Int
	case schema.Double:
		return v.Float
	case schema.Boolean:
		return v.Bool
	case schema.NaiveDate, schema.UTCDatetime:
		return v.Time
	case schema.JSON:
		return string(v.Bytes)
	case schema.Binary:
		return v.Bytes
	}
	return nil
}
