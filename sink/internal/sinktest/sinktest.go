// Package sinktest is the test table that pagekit's table sinks (SQLite,
// PostgreSQL, DuckDB, Parquet) all run: upserts, deletes and soft deletes,
// a round trip of every column type, a refused record that names itself
// and leaves nothing behind, checkpoints, identity, stream locks, and a
// sync that dies and resumes while its source changes. A sink's test
// describes how to make an empty destination, open the sink there and read
// its table back; the table does the rest, with the same records and the
// same expectations for every sink.
//
// Records are map[string]any, bound to declared tables with schema.Bind,
// so that one harness serves every table of the suite.
package sinktest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// Record is a record of the suite's tables.
type Record = map[string]any

// OpKey is the entry of a Record that holds its operation (a schema.Op);
// it is not a column.
const OpKey = "_op"

// Config is what the suite asks of a sink beyond its table.
type Config struct {
	// Op picks each record's operation.
	Op func(Record) schema.Op
	// DeletedColumn names the soft-delete column, or is empty.
	DeletedColumn string
}

// Sink is what the suite uses of a sink.
type Sink interface {
	paginate.Sink[Record]
	paginate.Committer[Record]
	paginate.Store
	paginate.Identifier
	// Lock takes the lock of a stream, as Load, Save and Commit do.
	Lock(ctx context.Context, stream string) error
	Close() error
}

// Harness tells the suite how to use one sink.
type Harness struct {
	// NewDest returns a new, empty destination: a database file, a
	// PostgreSQL schema, a directory.
	NewDest func(t *testing.T) string
	// Open opens a sink of the table m describes in dest. The suite
	// closes it.
	Open func(t *testing.T, dest string, m *schema.Mapping[Record], cfg Config) (Sink, error)
	// Rows returns the rows of table in dest as the sink's readers see
	// them, one map a row from column name to value, in any order; a
	// soft-delete column is included. Values may be in the sink's own
	// representation: the suite compares them by column type (see
	// Canonical).
	Rows func(t *testing.T, dest, table string) []map[string]any
	// Locked reports whether err says that another writer holds a
	// stream.
	Locked func(err error) bool
	// NoSoftDelete says the sink has no soft deletes: the soft-delete
	// cases are skipped.
	NoSoftDelete bool
	// TableLock says the sink's lock holds the whole table, all its
	// streams: a second sink of the table is refused every stream.
	TableLock bool
}

// Run runs the whole table against h.
func Run(t *testing.T, h Harness) {
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, h) })
	t.Run("Operations", func(t *testing.T) { operations(t, h) })
	t.Run("RefusedRecord", func(t *testing.T) { refusedRecord(t, h) })
	t.Run("Store", func(t *testing.T) { store(t, h) })
	t.Run("Identity", func(t *testing.T) { identity(t, h) })
	t.Run("StreamLock", func(t *testing.T) { streamLock(t, h) })
	t.Run("ResumeWhileSourceChanges", func(t *testing.T) { resume(t, h) })
}

// allTypes has a column of every type, and a column name that needs
// quoting.
var allTypes = schema.Table{
	Name:       "all",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String},
		{Name: "i", Type: schema.Int},
		{Name: "l", Type: schema.Long},
		{Name: "d", Type: schema.Double},
		{Name: "b", Type: schema.Boolean},
		{Name: "dec", Type: schema.Decimal},
		{Name: "day", Type: schema.NaiveDate},
		{Name: "at", Type: schema.UTCDatetime},
		{Name: "doc", Type: schema.JSON},
		{Name: "bin", Type: schema.Binary},
		{Name: `we"ird col`, Type: schema.String},
	},
}

// events has an integer key and a title.
var events = schema.Table{
	Name:       "events",
	PrimaryKey: []string{"id"},
	Columns:    []schema.Column{{Name: "id", Type: schema.Long}, {Name: "title", Type: schema.String}},
}

func opOf(r Record) schema.Op {
	op, _ := r[OpKey].(schema.Op)
	return op
}

// open opens a sink of table in dest and closes it at the test's end.
func open(t *testing.T, h Harness, dest string, table schema.Table, cfg Config) Sink {
	t.Helper()
	if cfg.Op == nil {
		cfg.Op = opOf
	}
	s, err := h.Open(t, dest, schema.Must(schema.Bind[Record](table)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rows returns the canonical rows of table in dest, sorted by key.
func rows(t *testing.T, h Harness, dest string, table schema.Table, deleted string) []map[string]any {
	t.Helper()
	got := h.Rows(t, dest, table.Name)
	out := make([]map[string]any, 0, len(got))
	for _, r := range got {
		c := make(map[string]any, len(r))
		for _, col := range table.Columns {
			c[col.Name] = Canonical(t, col.Type, r[col.Name])
		}
		if deleted != "" {
			c[deleted] = Canonical(t, schema.Boolean, r[deleted])
		}
		out = append(out, c)
	}
	key := table.PrimaryKey[0]
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(fmt.Sprint(a[key]), fmt.Sprint(b[key])) })
	return out
}

// want returns the canonical rows that records give in table.
func want(t *testing.T, table schema.Table, records ...Record) []map[string]any {
	t.Helper()
	m := schema.Must(schema.Bind[Record](table))
	var out []map[string]any
	for _, r := range records {
		vals := make([]schema.Value, len(table.Columns))
		if err := m.Row(&r, vals); err != nil {
			t.Fatal(err)
		}
		c := make(map[string]any)
		for i, col := range table.Columns {
			c[col.Name] = canonicalValue(col.Type, vals[i])
		}
		for k, v := range r {
			if k != OpKey && table.ColumnIndex(k) < 0 {
				c[k] = v // the deleted column
			}
		}
		out = append(out, c)
	}
	key := table.PrimaryKey[0]
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(fmt.Sprint(a[key]), fmt.Sprint(b[key])) })
	return out
}

// Canonical returns v, a value of a column of type typ as a sink or its
// driver gives it back, in one form per type: nil for NULL, string for
// STRING, int64 for INT and LONG, float64, bool, the exact decimal as a
// reduced fraction's text ("41/4"), "YYYY-MM-DD" for a date, a UTC
// time.Time, compact JSON text, []byte.
func Canonical(t testing.TB, typ schema.Type, v any) any {
	t.Helper()
	if v == nil {
		return nil
	}
	bad := func() any {
		t.Fatalf("sinktest: a %v column gave %T %v", typ, v, v)
		return nil
	}
	switch typ {
	case schema.String:
		if s, ok := v.(string); ok {
			return s
		}
	case schema.Int, schema.Long:
		switch n := v.(type) {
		case int64:
			return n
		case int32:
			return int64(n)
		case int:
			return int64(n)
		}
	case schema.Double:
		if f, ok := v.(float64); ok {
			return f
		}
	case schema.Boolean:
		switch b := v.(type) {
		case bool:
			return b
		case int64:
			return b != 0
		}
	case schema.Decimal:
		s := fmt.Sprint(v)
		if b, ok := v.([]byte); ok {
			s = string(b)
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			return bad()
		}
		return r.RatString()
	case schema.NaiveDate:
		switch d := v.(type) {
		case time.Time:
			return d.UTC().Format(time.DateOnly)
		case string:
			return d
		}
	case schema.UTCDatetime:
		switch d := v.(type) {
		case time.Time:
			return d.UTC()
		case string:
			at, err := time.Parse(time.RFC3339Nano, d)
			if err != nil {
				return bad()
			}
			return at.UTC()
		}
	case schema.JSON:
		var x any
		switch d := v.(type) {
		case string:
			if err := json.Unmarshal([]byte(d), &x); err != nil {
				return bad()
			}
		case []byte:
			if err := json.Unmarshal(d, &x); err != nil {
				return bad()
			}
		default:
			x = d // decoded by the driver
		}
		b, err := json.Marshal(x)
		if err != nil {
			return bad()
		}
		return string(b)
	case schema.Binary:
		if b, ok := v.([]byte); ok {
			return b
		}
		if s, ok := v.(string); ok {
			return []byte(s)
		}
	}
	return bad()
}

// canonicalValue is Canonical for an extracted value.
func canonicalValue(typ schema.Type, v schema.Value) any {
	if v.Null {
		return nil
	}
	switch typ {
	case schema.String:
		return v.Str
	case schema.Int, schema.Long:
		return v.Int
	case schema.Double:
		return v.Float
	case schema.Boolean:
		return v.Bool
	case schema.Decimal:
		r, _ := new(big.Rat).SetString(v.Str)
		return r.RatString()
	case schema.NaiveDate:
		return v.Time.Format(time.DateOnly)
	case schema.UTCDatetime:
		return v.Time
	case schema.JSON:
		var x any
		_ = json.Unmarshal(v.Bytes, &x)
		b, _ := json.Marshal(x)
		return string(b)
	case schema.Binary:
		return v.Bytes
	}
	return nil
}

func roundTrip(t *testing.T, h Harness) {
	at := time.Date(2024, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))
	every := Record{
		"id": "b", "i": int32(-7), "l": int64(1 << 40), "d": 2.5, "b": true, "dec": "12345678901234567890.000001",
		"day": at, "at": at, "doc": json.RawMessage(`{"x": [1, "y"]}`), "bin": []byte{0, 0xff}, `we"ird col`: `q"`,
	}
	for _, tc := range []struct {
		name  string
		pages [][]Record
		want  []Record
	}{
		{"nulls", [][]Record{{{"id": "a"}}}, []Record{{"id": "a"}}},
		{"every type", [][]Record{{every}}, []Record{every}},
		{"later page replaces", [][]Record{{{"id": "c", "l": 1, "dec": "1.5"}}, {{"id": "c", "l": 2}}},
			[]Record{{"id": "c", "l": 2}}},
		{"duplicate in a page: last wins", [][]Record{{{"id": "d", "l": 1}, {"id": "e"}, {"id": "d", "l": 3}}},
			[]Record{{"id": "d", "l": 3}, {"id": "e"}}},
		{"negative and extreme numbers", [][]Record{{{"id": "f", "i": int32(-1 << 31), "l": int64(-1 << 63), "d": -1e300, "dec": "-0.000000001"}}},
			[]Record{{"id": "f", "i": int32(-1 << 31), "l": int64(-1 << 63), "d": -1e300, "dec": "-0.000000001"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := h.NewDest(t)
			s := open(t, h, dest, allTypes, Config{})
			for _, p := range tc.pages {
				if err := s.Write(context.Background(), p); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want(t, allTypes, tc.want...), rows(t, h, dest, allTypes, "")); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

func ev(id int64, title string, op schema.Op) Record {
	return Record{"id": id, "title": title, OpKey: op}
}

func operations(t *testing.T, h Harness) {
	ctx := context.Background()
	up := schema.Upsert
	for _, tc := range []struct {
		name    string
		deleted string
		pages   [][]Record
		want    []Record
	}{
		{"delete", "", [][]Record{
			{ev(1, "a", up), ev(2, "b", up), ev(3, "c", up)},
			{ev(2, "", schema.Delete), ev(9, "", schema.Delete)},
		}, []Record{{"id": int64(1), "title": "a"}, {"id": int64(3), "title": "c"}}},
		{"delete then upsert in one page", "", [][]Record{
			{ev(1, "a", up)},
			{ev(1, "", schema.Delete), ev(1, "again", up)},
		}, []Record{{"id": int64(1), "title": "again"}}},
		{"upsert then delete in one page", "", [][]Record{
			{ev(1, "a", up), ev(1, "", schema.Delete), ev(2, "b", up)},
		}, []Record{{"id": int64(2), "title": "b"}}},
		{"soft delete", "_deleted", [][]Record{
			{ev(1, "a", up), ev(2, "b", up)},
			{ev(2, "ignored", schema.SoftDelete), ev(7, "", schema.SoftDelete)},
		}, []Record{{"id": int64(1), "title": "a", "_deleted": false}, {"id": int64(2), "title": "b", "_deleted": true}}},
		{"upsert revives", "_deleted", [][]Record{
			{ev(1, "a", up)},
			{ev(1, "", schema.SoftDelete)},
			{ev(1, "back", up)},
		}, []Record{{"id": int64(1), "title": "back", "_deleted": false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.deleted != "" && h.NoSoftDelete {
				t.Skip("the sink has no soft deletes")
			}
			dest := h.NewDest(t)
			s := open(t, h, dest, events, Config{DeletedColumn: tc.deleted})
			for _, p := range tc.pages {
				if err := s.Write(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(want(t, events, tc.want...), rows(t, h, dest, events, tc.deleted)); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("soft delete without a deleted column", func(t *testing.T) {
		dest := h.NewDest(t)
		s := open(t, h, dest, events, Config{})
		err := s.Write(ctx, []Record{ev(1, "a", up), ev(2, "", schema.SoftDelete)})
		if !errors.Is(err, schema.ErrBadOp) || !strings.Contains(err.Error(), "record 1 (id=2)") {
			t.Errorf("error = %v, want ErrBadOp naming record 1 (id=2)", err)
		}
		if got := rows(t, h, dest, events, ""); len(got) != 0 {
			t.Errorf("rows after a refused page: %v", got)
		}
	})
}

// users returns n records of a USER table, the same for the same seed; a
// later version replaces each name.
func users(n, version int) []Record {
	out := make([]Record, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = Record{
			"id":        fmt.Sprintf("u%05d", i),
			"name":      fmt.Sprintf("user %d, version %d", i, version),
			"email":     fmt.Sprintf("user%d@example.com", i),
			"updatedAt": base.Add(time.Duration(i+version*n) * time.Second),
		}
	}
	return out
}

var userTable = schema.Table{
	Name:       "user",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String},
		{Name: "name", Type: schema.String},
		{Name: "email", Type: schema.String},
		{Name: "updatedAt", Type: schema.UTCDatetime},
	},
}

func refusedRecord(t *testing.T, h Harness) {
	ctx := context.Background()
	dest := h.NewDest(t)
	s := open(t, h, dest, userTable, Config{})
	first := users(10, 0)
	before := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	if err := s.Commit(ctx, first, before); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		spoil func(p []Record)
		err   error
		msg   string
	}{
		{"missing key", func(p []Record) { p[400]["id"] = "" }, schema.ErrMissingKey, `table "user": record 400: column "id": missing primary key`},
		{"bad text", func(p []Record) { p[401]["name"] = "\xff" }, schema.ErrBadValue, `table "user": record 401 (id="u00401"): column "name"`},
		{"bad time", func(p []Record) { p[402]["updatedAt"] = "yesterday" }, schema.ErrBadValue, `record 402 (id="u00402"): column "updatedAt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := users(500, 1)
			tc.spoil(page)
			err := s.Commit(ctx, page, paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}})
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Commit: error = %v, want %v with %q", err, tc.err, tc.msg)
			}
			if diff := cmp.Diff(want(t, userTable, first...), rows(t, h, dest, userTable, "")); diff != "" {
				t.Errorf("table after a refused page (-want +got):\n%s", diff)
			}
			cp, found, err := s.Load(ctx, "users")
			if err != nil || !found || cp.Position != before.Position {
				t.Errorf("checkpoint after a refused page: %+v, %v, %v; want %+v", cp, found, err, before)
			}
		})
	}
	// The sink goes on.
	after := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}
	page := users(500, 1)
	if err := s.Commit(ctx, page, after); err != nil {
		t.Fatalf("a good page after refused ones: %v", err)
	}
	if diff := cmp.Diff(want(t, userTable, page...), rows(t, h, dest, userTable, "")); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func store(t *testing.T, h Harness) {
	ctx := context.Background()
	dest := h.NewDest(t)
	s := open(t, h, dest, userTable, Config{})
	if _, found, err := s.Load(ctx, "users"); found || err != nil {
		t.Fatalf("Load of a new stream: found %v, error %v", found, err)
	}
	cps := []paginate.Checkpoint{
		{Stream: "users", Position: paginate.Position{Page: 3, Since: "2024-01-01T00:00:00Z"}, HighWater: "2024-02-01T00:00:00Z", LastPage: 1<<63 + 5},
		{Stream: "other", Position: paginate.Position{Token: "abc\n\"x\"", Offset: 40}, Drifted: true, Identity: "table=user"},
	}
	for _, cp := range cps {
		if err := s.Save(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Commit(ctx, users(3, 0), cps[0]); err != nil {
		t.Fatal(err)
	}
	// Another sink reads them once the first, their writer, is closed.
	s.Close()
	s2 := open(t, h, dest, userTable, Config{})
	for _, w := range cps {
		got, found, err := s2.Load(ctx, w.Stream)
		if err != nil || !found {
			t.Fatalf("Load(%q): %v, %v", w.Stream, found, err)
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Errorf("checkpoint (-want +got):\n%s", diff)
		}
	}
	if err := s.Write(ctx, nil); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func identity(t *testing.T, h Harness) {
	ctx := context.Background()
	dest := h.NewDest(t)
	s := open(t, h, dest, userTable, Config{})
	if got := s.Identity()["table"]; got != "user" {
		t.Errorf(`Identity()["table"] = %q, want "user"`, got)
	}
	src := users(30, 0)
	if _, err := paginate.Run(ctx, pages(src, 10, nil), s, paginate.Options[Record]{Stream: "users"}); err != nil {
		t.Fatal(err)
	}
	cp, _, err := s.Load(ctx, "users")
	if err != nil || !strings.Contains(cp.Identity, "table=user") {
		t.Errorf("checkpoint identity %q (%v), want table=user", cp.Identity, err)
	}
}

func streamLock(t *testing.T, h Harness) {
	ctx := context.Background()
	dest := h.NewDest(t)
	a := open(t, h, dest, userTable, Config{})
	if err := a.Commit(ctx, users(2, 0), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}); err != nil {
		t.Fatal(err)
	}
	b := open(t, h, dest, userTable, Config{})
	for name, f := range map[string]func() error{
		"Lock":   func() error { return b.Lock(ctx, "users") },
		"Load":   func() error { _, _, err := b.Load(ctx, "users"); return err },
		"Commit": func() error { return b.Commit(ctx, users(2, 1), paginate.Checkpoint{Stream: "users"}) },
	} {
		if err := f(); !h.Locked(err) {
			t.Errorf("%s of a stream another sink holds: error = %v, want the stream locked", name, err)
		}
	}
	// Another stream is free, unless the lock is the table's; the
	// stream is free once its holder closed.
	if err := b.Lock(ctx, "other"); h.TableLock != h.Locked(err) || !h.TableLock && err != nil {
		t.Errorf("Lock of another stream: %v (the lock holds the whole table: %v)", err, h.TableLock)
	}
	a.Close()
	if err := b.Commit(ctx, users(2, 1), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}); err != nil {
		t.Errorf("Commit once the holder closed: %v", err)
	}
	if diff := cmp.Diff(want(t, userTable, users(2, 1)...), rows(t, h, dest, userTable, "")); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

// pages serves src by page number from 1, per a page; fail, when not nil,
// decides whether the fetch of a page fails.
func pages(src []Record, per int, fail func(page int64) bool) paginate.Paginator[Record] {
	return paginate.PaginatorFunc[Record](func(ctx context.Context, pos paginate.Position) (paginate.Page[Record], error) {
		p := max(pos.Page, 1)
		if fail != nil && fail(p) {
			return paginate.Page[Record]{}, paginate.Permanent(fmt.Errorf("page %d is down", p))
		}
		lo, hi := min(int(p-1)*per, len(src)), min(int(p)*per, len(src))
		return paginate.Page[Record]{Items: src[lo:hi], More: hi < len(src), Next: paginate.Position{Page: p + 1}}, nil
	})
}

// resume syncs a source that dies at page 4, changes (records of committed
// pages and of pages to come are updated), and is synced
// again from the checkpoint, then once more in full: the table ends equal
// to the source.
func resume(t *testing.T, h Harness) {
	ctx := context.Background()
	dest := h.NewDest(t)
	src := users(95, 0)
	run := func(src []Record, fail func(int64) bool) (paginate.Result, error) {
		s := open(t, h, dest, userTable, Config{})
		defer s.Close()
		return paginate.Run(ctx, pages(src, 10, fail), s, paginate.Options[Record]{Stream: "users"})
	}
	if _, err := run(src, func(p int64) bool { return p == 4 }); err == nil {
		t.Fatal("first run succeeded, want the failure at page 4")
	}
	if diff := cmp.Diff(want(t, userTable, src[:30]...), rows(t, h, dest, userTable, "")); diff != "" {
		t.Errorf("table after the failure (-want +got):\n%s", diff)
	}
	// The source changes: records before and after the checkpoint.
	changed := slices.Clone(src)
	for _, i := range []int{3, 25, 40, 77} {
		changed[i] = users(95, 1)[i]
	}
	res, err := run(changed, nil)
	if err != nil || !res.Resumed {
		t.Fatalf("resumed run: %+v, %v", res, err)
	}
	// Records 3 and 25 changed before the checkpoint: the resumed run
	// does not see them; the next full sync does.
	wantNow := slices.Concat(src[:30], changed[30:])
	if diff := cmp.Diff(want(t, userTable, wantNow...), rows(t, h, dest, userTable, "")); diff != "" {
		t.Errorf("table after the resume (-want +got):\n%s", diff)
	}
	if _, err := run(changed, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want(t, userTable, changed...), rows(t, h, dest, userTable, "")); diff != "" {
		t.Errorf("table after the next sync (-want +got):\n%s", diff)
	}
}

// Query returns the rows of q in db, for a harness's Rows.
func Query(t testing.TB, db *sql.DB, q string) []map[string]any {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for rs.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make(map[string]any, len(cols))
		for i, c := range cols {
			r[c] = vals[i]
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
