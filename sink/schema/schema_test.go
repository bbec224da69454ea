package schema_test

import (
	"encoding/json"
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/sink/schema"
)

// User is the seed connector's USER record as a connector decodes it.
type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Company   string    `json:"company"`
	Job       string    `json:"job"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedAt time.Time `json:"createdAt"`
}

// seedUser is the seed's schema() for the USER table.
var seedUser = schema.Table{
	Name:       "user",
	PrimaryKey: []string{"id"},
	Columns: []schema.Column{
		{Name: "id", Type: schema.String}, {Name: "name", Type: schema.String}, {Name: "email", Type: schema.String}, {Name: "address", Type: schema.String},
		{Name: "company", Type: schema.String}, {Name: "job", Type: schema.String}, {Name: "updatedAt", Type: schema.UTCDatetime}, {Name: "createdAt", Type: schema.UTCDatetime},
	},
}

type Base struct {
	Org int32 `json:"org" pagekit:",pk"`
}

type Extra struct {
	Note string `json:"note"`
}

type Tagged struct {
	Base
	*Extra
	ID       int64             `json:"id" pagekit:",pk"`
	Price    string            `json:"price" pagekit:",decimal"`
	Day      string            `json:"day" pagekit:"day,NAIVE_DATE"`
	Seen     *time.Time        `json:"seen,omitempty"`
	Stamp    string            `pagekit:"stamp,utc_datetime"`
	Raw      json.RawMessage   `json:"raw"`
	Tags     map[string]string `json:"tags"`
	Blob     []byte            `json:"blob"`
	Ratio    float64           `json:"ratio"`
	OK       bool              `json:"ok"`
	Addr     netip.Addr        `json:"addr"`
	Amount   json.Number       `json:"amount"`
	Skipped  string            `json:"-"`
	Dropped  string            `pagekit:"-"`
	Kept     string            `json:"-" pagekit:"kept"`
	internal string            // unexported: never a column
}

func TestDerive(t *testing.T) {
	got, err := schema.Derive[User]("user", "id")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seedUser, got.Table()); diff != "" {
		t.Errorf("Derive[User] table (-want +got):\n%s", diff)
	}

	tagged, err := schema.Derive[*Tagged]("tagged")
	if err != nil {
		t.Fatal(err)
	}
	want := schema.Table{
		Name:       "tagged",
		PrimaryKey: []string{"org", "id"},
		Columns: []schema.Column{
			{Name: "org", Type: schema.Int}, {Name: "note", Type: schema.String}, {Name: "id", Type: schema.Long}, {Name: "price", Type: schema.Decimal},
			{Name: "day", Type: schema.NaiveDate}, {Name: "seen", Type: schema.UTCDatetime}, {Name: "stamp", Type: schema.UTCDatetime},
			{Name: "raw", Type: schema.JSON}, {Name: "tags", Type: schema.JSON}, {Name: "blob", Type: schema.Binary}, {Name: "ratio", Type: schema.Double},
			{Name: "ok", Type: schema.Boolean}, {Name: "addr", Type: schema.String}, {Name: "amount", Type: schema.Decimal}, {Name: "kept", Type: schema.String},
		},
	}
	if diff := cmp.Diff(want, tagged.Table()); diff != "" {
		t.Errorf("Derive[*Tagged] table (-want +got):\n%s", diff)
	}
}

func TestDeriveErrors(t *testing.T) {
	type noKey struct {
		Name string
	}
	type badOpt struct {
		ID string `pagekit:",primary"`
	}
	type badType struct {
		ID string `pagekit:",pk"`
		C  chan int
	}
	type clash struct {
		A string `json:"x" pagekit:",pk"`
		B string `pagekit:"x"`
	}
	type mismatch struct {
		ID string `pagekit:",pk,long"`
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"no key", derive[noKey](), "has no primary key"},
		{"bad option", derive[badOpt](), `tag option "primary" is neither pk nor a column type`},
		{"chan", derive[badType](), "no column type for Go type chan int"},
		{"same name", derive[clash](), `have the same column name "x"`},
		{"tag type mismatch", derive[mismatch](), "type string cannot fill a LONG column"},
		{"not a struct", derive[[]string](), "Derive needs a struct type"}, // a scalar such as int is a one-column table
		{"unknown key", deriveKey[User]("nope"), `primary key column "nope" is not a column`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", tc.err, tc.want)
			}
		})
	}
}

func derive[T any]() error {
	_, err := schema.Derive[T]("t")
	return err
}

func deriveKey[T any](pk string) error {
	_, err := schema.Derive[T]("t", pk)
	return err
}

func TestBind(t *testing.T) {
	type camel struct {
		Id        string // matched case-insensitively
		UpdatedAt string // RFC 3339 text into a UTC_DATETIME column
		Extra     int
	}
	tbl := schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.String}, {Name: "updatedAt", Type: schema.UTCDatetime}}}
	m, err := schema.Bind[camel](tbl)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]schema.Value, 2)
	if err := m.Row(&camel{Id: "a", UpdatedAt: "2024-05-06T07:08:09.123456789+02:00"}, row); err != nil {
		t.Fatal(err)
	}
	want := []schema.Value{{Str: "a"}, {Time: time.Date(2024, 5, 6, 5, 8, 9, 123456000, time.UTC)}}
	if diff := cmp.Diff(want, row); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		tbl  schema.Table
		want string
	}{
		{"no field", schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.String}, {Name: "zip", Type: schema.String}}},
			`column "zip": no field of the record type has this name`},
		{"wrong type", schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.Boolean}}},
			`column "id": field camel.Id: type string cannot fill a BOOLEAN column`},
		{"no key", schema.Table{Name: "t", Columns: []schema.Column{{Name: "id", Type: schema.String}}}, `table "t" has no primary key`},
		{"no type", schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: 0}}}, `column "id" has no valid type`},
		{"duplicate", schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{{Name: "id", Type: schema.String}, {Name: "ID", Type: schema.String}}},
			`columns "id" and "ID" have the same name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := schema.Bind[camel](tc.tbl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRow(t *testing.T) {
	m := schema.Must(schema.Derive[*Tagged]("tagged"))
	seen := time.Date(2024, 1, 2, 3, 4, 5, 999, time.FixedZone("x", 3600))
	rec := &Tagged{
		Base: Base{Org: 7}, ID: 42, Price: "-12.50e3", Day: "2024-02-29", Seen: &seen, Stamp: "2024-01-02T03:04:05Z",
		Raw: json.RawMessage(`{"a":1}`), Tags: map[string]string{"k": "v"}, Blob: []byte{0, 1}, Ratio: 0.5, OK: true,
		Addr: netip.MustParseAddr("10.0.0.1"), Amount: "3", Kept: "kept", internal: "never read",
	}
	row := make([]schema.Value, len(m.Table().Columns))
	if err := m.Row(&rec, row); err != nil {
		t.Fatal(err)
	}
	want := []schema.Value{
		{Int: 7}, {Null: true}, {Int: 42}, {Str: "-12.50e3"},
		{Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, {Time: time.Date(2024, 1, 2, 2, 4, 5, 0, time.UTC)},
		{Time: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}, {Bytes: []byte(`{"a":1}`)}, {Bytes: []byte(`{"k":"v"}`)},
		{Bytes: []byte{0, 1}}, {Float: 0.5}, {Bool: true}, {Str: "10.0.0.1"}, {Str: "3"}, {Str: "kept"},
	}
	if diff := cmp.Diff(want, row); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	if got, want := m.Key(row), "org=7, id=42"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
}

func TestRowMap(t *testing.T) {
	tbl := schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", Type: schema.Long}, {Name: "n", Type: schema.Int}, {Name: "at", Type: schema.UTCDatetime}, {Name: "doc", Type: schema.JSON}, {Name: "gone", Type: schema.String}, {Name: "d", Type: schema.Decimal},
	}}
	m := schema.Must(schema.Bind[map[string]any](tbl))
	var rec map[string]any
	if err := json.Unmarshal([]byte(`{"id": 9007199254740991, "n": 3, "at": "2024-01-01T00:00:00Z", "doc": {"x": [1]}, "d": 1.25}`), &rec); err != nil {
		t.Fatal(err)
	}
	row := make([]schema.Value, len(tbl.Columns))
	if err := m.Row(&rec, row); err != nil {
		t.Fatal(err)
	}
	want := []schema.Value{
		{Int: 9007199254740991}, {Int: 3}, {Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Bytes: []byte(`{"x":[1]}`)}, {Null: true}, {Str: "1.25"},
	}
	if diff := cmp.Diff(want, row); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
	// 9007199254740993 decodes into a float64 as ...992: refused, so that
	// two keys never merge into one row.
	var big map[string]any
	if err := json.Unmarshal([]byte(`{"id": 9007199254740993, "n": 3}`), &big); err != nil {
		t.Fatal(err)
	}
	if err := m.Row(&big, row); !errors.Is(err, schema.ErrBadValue) || !strings.Contains(err.Error(), "past 2^53") {
		t.Errorf("integer past 2^53 from a float64: error = %v", err)
	}
	rec["n"] = 1.5
	err := m.Row(&rec, row)
	if !errors.Is(err, schema.ErrBadValue) || !strings.Contains(err.Error(), `column "n": value does not fit its column: 1.5 is not an integer`) {
		t.Errorf("fractional INT: error = %v", err)
	}
}

// A string in a map[string]any record, or in an interface field, is a
// decoded JSON string, not JSON text: it goes into a JSON column as a JSON
// string, so "123" stays a string and "n/a" is not refused.
func TestJSONStringInInterface(t *testing.T) {
	tbl := schema.Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []schema.Column{
		{Name: "id", Type: schema.String}, {Name: "meta", Type: schema.JSON},
	}}
	mm := schema.Must(schema.Bind[map[string]any](tbl))
	type rec struct {
		ID   string `json:"id"`
		Meta any    `json:"meta"`
	}
	ms := schema.Must(schema.Bind[rec](tbl))
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"id": "a", "meta": "123"}`, `"123"`},
		{`{"id": "a", "meta": "n/a"}`, `"n/a"`},
		{`{"id": "a", "meta": "{\"x\":1}"}`, `"{\"x\":1}"`},
		{`{"id": "a", "meta": {"x": "y"}}`, `{"x":"y"}`},
		{`{"id": "a", "meta": 7}`, `7`},
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(tc.body), &m); err != nil {
			t.Fatal(err)
		}
		row := make([]schema.Value, 2)
		if err := mm.Row(&m, row); err != nil {
			t.Errorf("map record %s: %v", tc.body, err)
		} else if got := string(row[1].Bytes); got != tc.want {
			t.Errorf("map record %s: meta = %s, want %s", tc.body, got, tc.want)
		}
		var r rec
		if err := json.Unmarshal([]byte(tc.body), &r); err != nil {
			t.Fatal(err)
		}
		if err := ms.Row(&r, row); err != nil {
			t.Errorf("struct record %s: %v", tc.body, err)
		} else if got := string(row[1].Bytes); got != tc.want {
			t.Errorf("struct record %s: meta = %s, want %s", tc.body, got, tc.want)
		}
	}
}

func TestBadRecords(t *testing.T) {
	type rec struct {
		ID    *string          `json:"id" pagekit:",pk"`
		Small int64            `json:"small" pagekit:",int"`
		Text  string           `json:"text"`
		F     float64          `json:"f"`
		Dec   string           `json:"dec" pagekit:",decimal"`
		Day   string           `json:"day" pagekit:",naive_date"`
		At    time.Time        `json:"at"`
		Doc   *json.RawMessage `json:"doc"`
	}
	m := schema.Must(schema.Derive[rec]("things"))
	id := func(s string) *string { return &s }
	raw := func(s string) *json.RawMessage { r := json.RawMessage(s); return &r }
	for _, tc := range []struct {
		name   string
		rec    rec
		is     error
		column string
		key    string
		msg    string
	}{
		{"nil key", rec{}, schema.ErrMissingKey, "id", "", `table "things": record 1: column "id": missing primary key`},
		{"empty key", rec{ID: id("")}, schema.ErrMissingKey, "id", "", "missing primary key"},
		{"int overflow", rec{ID: id("a"), Small: math.MaxInt32 + 1}, schema.ErrBadValue, "small", `id="a"`,
			`table "things": record 1 (id="a"): column "small": value does not fit its column: 2147483648 overflows INT`},
		{"bad utf8", rec{ID: id("a"), Text: "\xff"}, schema.ErrBadValue, "text", `id="a"`, "not valid UTF-8"},
		{"nul", rec{ID: id("a"), Text: "a\x00b"}, schema.ErrBadValue, "text", `id="a"`, "NUL byte"},
		{"bad key utf8", rec{ID: id("\xff")}, schema.ErrBadValue, "id", "", "not valid UTF-8"},
		{"nan", rec{ID: id("a"), F: math.NaN()}, schema.ErrBadValue, "f", `id="a"`, "NaN"},
		{"decimal", rec{ID: id("a"), Dec: "1.2.3"}, schema.ErrBadValue, "dec", `id="a"`, `"1.2.3" is not a decimal number`},
		{"date", rec{ID: id("a"), Day: "2024-02-30"}, schema.ErrBadValue, "day", `id="a"`, "is not a date"},
		{"year", rec{ID: id("a"), At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, schema.ErrBadValue, "at", `id="a"`, "year 10000"},
		{"json", rec{ID: id("a"), Doc: raw("{")}, schema.ErrBadValue, "doc", `id="a"`, "invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := rec{ID: id("ok")}
			_, err := m.Rows([]rec{good, tc.rec}, nil)
			var re *schema.RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v, want a *RecordError", err)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			got := [3]any{re.Index, re.Column, re.Key}
			if diff := cmp.Diff([3]any{1, tc.column, tc.key}, got); diff != "" {
				t.Errorf("index, column, key (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %q, want it to contain %q", err, tc.msg)
			}
		})
	}
}

func TestNilRecordAndNilEmbedded(t *testing.T) {
	m := schema.Must(schema.Derive[*Tagged]("tagged"))
	var nilRec *Tagged
	row := make([]schema.Value, len(m.Table().Columns))
	if err := m.Row(&nilRec, row); !errors.Is(err, schema.ErrMissingKey) {
		t.Errorf("nil record: error = %v, want ErrMissingKey", err)
	}
}

func TestParseType(t *testing.T) {
	for typ := schema.String; typ <= schema.Binary; typ++ {
		got, err := schema.ParseType(strings.ToLower(typ.String()))
		if err != nil || got != typ {
			t.Errorf("ParseType(%q) = %v, %v", typ, got, err)
		}
	}
	if _, err := schema.ParseType("TEXT"); err == nil {
		t.Error("ParseType(TEXT) succeeded")
	}
	b, err := json.Marshal(seedUser)
	if err != nil {
		t.Fatal(err)
	}
	var back schema.Table
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seedUser, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}
