package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func record(t testing.TB, s string) Record {
	t.Helper()
	var r Record
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return r
}

func TestRecordDecode(t *testing.T) {
	r := record(t, ` {"id": "7f", "n": 42, "a\u0062": [1, {"x": null}], "id": "8g", "t": true, "e": ""} `)
	var got []string
	for k, v := range r.Fields() {
		got = append(got, k+"="+string(v))
	}
	want := []string{`n=42`, `ab=[1, {"x": null}]`, `id="8g"`, `t=true`, `e=""`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if r.Len() != 6 {
		t.Errorf("Len = %d, want 6 (the repeated field counted twice)", r.Len())
	}
	for name, want := range map[string]string{"id": "8g", "n": "42", "t": "true", "e": "", "missing": "", "ab": `[1, {"x": null}]`} {
		if got := r.Text(name); got != want {
			t.Errorf("Text(%q) = %q, want %q", name, got, want)
		}
	}
	b, err := json.Marshal(r)
	if err != nil || !json.Valid(b) {
		t.Errorf("Marshal: %s, %v", b, err)
	}
	var zero Record
	if b, _ := json.Marshal(zero); string(b) != "{}" {
		t.Errorf("zero Record marshals as %s, want {}", b)
	}
}

func TestRecordRefuses(t *testing.T) {
	for _, in := range []string{`[]`, `"x"`, `42`, `null`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":"\x01"}`, `{"a":"\q"}`,
		`{"a":tru}`, `{"a":[1 2]}`, `{"a":1} x`, `{`, `{"a":"\u12"}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`} {
		var r Record
		err := r.UnmarshalJSON([]byte(in))
		if err == nil {
			t.Errorf("%s: decoded, want an error", in)
		}
	}
	var r Record
	if err := r.UnmarshalJSON([]byte(`[1]`)); !errors.Is(err, ErrNotObject) {
		t.Errorf("an array: %v, want ErrNotObject", err)
	}
}

// FuzzRecord checks the record's reading of JSON against encoding/json.
func FuzzRecord(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":[1,{"b":"\u00e9"}],"c":-0.5e+3}`, `{"a":"\ud800"}`, `[1]`, `{"a":01}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		err := r.UnmarshalJSON(b)
		var m map[string]json.RawMessage
		jerr := json.Unmarshal(b, &m)
		if (err == nil) != (jerr == nil && m != nil) {
			t.Fatalf("%q: Record: %v, encoding/json: %v", b, err, jerr)
		}
		if err != nil {
			return
		}
		n := 0
		for k, v := range r.Fields() {
			n++
			if string(m[k]) != string(v) {
				t.Fatalf("%q: field %q = %s, encoding/json %s", b, k, v, m[k])
			}
		}
		if n != len(m) {
			t.Fatalf("%q: %d fields, encoding/json %d", b, n, len(m))
		}
	})
}

func TestRecordValues(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	tests := []struct {
		typ  Type
		in   string
		want Value
		err  string
	}{
		{String, `"héllo"`, Value{Str: "héllo"}, ""},
		{String, `"a\"b"`, Value{Str: `a"b`}, ""},
		{String, `42`, Value{Str: "42"}, ""},
		{String, `{"a": 1}`, Value{Str: `{"a": 1}`}, ""},
		{String, `null`, Value{Null: true}, ""},
		{String, `"a\u0000b"`, Value{}, "NUL byte"},
		{Long, `42`, Value{Int: 42}, ""},
		{Long, `-9223372036854775808`, Value{Int: -9223372036854775808}, ""},
		{Long, `9223372036854775808`, Value{}, "overflows LONG"},
		{Long, `4.0`, Value{Int: 4}, ""},
		{Long, `10.5`, Value{}, "10.5 is not an integer"},
		{Long, `"42"`, Value{}, `a string "\"42\"" is not an integer (LONG)`},
		{Int, `2147483648`, Value{}, "overflows INT"},
		{Double, `1.5e3`, Value{Float: 1500}, ""},
		{Double, `7`, Value{Float: 7}, ""},
		{Double, `true`, Value{}, "a boolean"},
		{Boolean, `true`, Value{Bool: true}, ""},
		{Boolean, `false`, Value{}, ""},
		{Boolean, `1`, Value{}, "is not a boolean"},
		{Decimal, `12345678901234567890.25`, Value{Str: "12345678901234567890.25"}, ""},
		{Decimal, `"19.99"`, Value{Str: "19.99"}, ""},
		{Decimal, `"abc"`, Value{}, "not a decimal"},
		{UTCDatetime, `"2024-01-02T03:04:05.6Z"`, Value{Time: ts}, ""},
		{UTCDatetime, `"2024-01-02T05:04:05.6+02:00"`, Value{Time: ts}, ""},
		{UTCDatetime, `""`, Value{Null: true}, ""},
		{UTCDatetime, `"2024-02-30T00:00:00Z"`, Value{}, "not an RFC 3339 timestamp"},
		{UTCDatetime, `"n/a"`, Value{}, `"n/a" is not an RFC 3339 timestamp`},
		{UTCDatetime, `1700000000`, Value{}, "is not a timestamp"},
		{NaiveDate, `"2024-01-02"`, Value{Time: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}, ""},
		{JSON, `[1, 2]`, Value{Bytes: []byte(`[1, 2]`)}, ""},
		{JSON, `"x"`, Value{Bytes: []byte(`"x"`)}, ""},
		{Binary, `"aGk="`, Value{Bytes: []byte("hi")}, ""},
	}
	for _, tt := range tests {
		m, err := Bind[Record](Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []Column{{Name: "id", Type: String}, {Name: "v", Type: tt.typ}}})
		if err != nil {
			t.Fatal(err)
		}
		r := record(t, `{"id": "k1", "v": `+tt.in+`}`)
		row := make([]Value, 2)
		err = m.Row(&r, row)
		if tt.err != "" {
			var re *RecordError
			if !errors.As(err, &re) || re.Column != "v" || re.Key != `id="k1"` || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrBadValue) {
				t.Errorf("%v from %s: %v, want a RecordError of column v, record k1, saying %q", tt.typ, tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v from %s: %v", tt.typ, tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, row[1]); diff != "" {
			t.Errorf("%v from %s (-want +got):\n%s", tt.typ, tt.in, diff)
		}
	}
}

func TestRecordKey(t *testing.T) {
	m, err := Bind[Record](Table{Name: "t", PrimaryKey: []string{"id"}, Columns: []Column{{Name: "x", Type: Long}, {Name: "id", Type: String}}})
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{`{"id":"a","x":1}`: "a", `{"x":1,"id":7}`: "7", `{"x":1}`: "", `{"id":null}`: "", `{"id":""}`: ""} {
		if got := m.KeyOf(record(t, in)); got != want {
			t.Errorf("KeyOf(%s) = %q, want %q", in, got, want)
		}
	}
	r := record(t, `{"x":1}`)
	if err := m.Row(&r, make([]Value, 2)); !errors.Is(err, ErrMissingKey) {
		t.Errorf("a record without its key: %v, want ErrMissingKey", err)
	}
	m2, _ := Bind[Record](Table{Name: "t", PrimaryKey: []string{"org", "id"}, Columns: []Column{{Name: "id", Type: Long}, {Name: "org", Type: String}}})
	if got, want := m2.KeyOf(record(t, `{"id":4,"org":"o"}`)), `org="o", id=4`; got != want {
		t.Errorf("composite KeyOf = %q, want %q", got, want)
	}
}

func TestDynamicGrow(t *testing.T) {
	d, err := NewDynamic(Table{Name: "users", PrimaryKey: []string{"id"}, Columns: []Column{{Name: "price", Type: Double}}})
	if err != nil {
		t.Fatal(err)
	}
	page1 := []Record{
		record(t, `{"id":"a","price":10,"n":1,"at":"2024-01-02T03:04:05Z","day":"2024-01-02","tags":["x"],"ok":true,"gone":null,"mixed":"2024-01-02T03:04:05Z"}`),
		record(t, `{"id":"b","price":10.5,"n":2.5,"at":"2024-01-03T03:04:05Z","day":"2024-01-03","tags":null,"ok":false,"mixed":"soon"}`),
	}
	added, err := d.Grow(page1)
	if err != nil {
		t.Fatal(err)
	}
	want := []Column{{Name: "n", Type: Double}, {Name: "at", Type: UTCDatetime}, {Name: "day", Type: NaiveDate},
		{Name: "tags", Type: JSON}, {Name: "ok", Type: Boolean}, {Name: "mixed", Type: String}}
	if diff := cmp.Diff(want, added); diff != "" {
		t.Errorf("columns added (-want +got):\n%s", diff)
	}
	if added, err := d.Grow(page1); err != nil || added != nil {
		t.Errorf("Grow again: %v, %v; want nothing added", added, err)
	}
	tbl := d.Table()
	if got := len(tbl.Columns); got != 8 || tbl.Columns[1].Name != "id" {
		t.Errorf("table %+v: want price, id, then the 6 added", tbl)
	}
	rows, err := d.Mapping().Rows(page1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[2].Float; got != 1 {
		t.Errorf("n of the first record = %v, want 1 (an integer in a DOUBLE column)", got)
	}

	// A later page: a new field adds a column; a value that does not fit
	// its column fails with the record's key and the column.
	page2 := []Record{record(t, `{"id":"c","n":3,"at":"yesterday","extra":{"a":1}}`)}
	if added, err := d.Grow(page2); err != nil || len(added) != 1 || added[0] != (Column{Name: "extra", Type: JSON}) {
		t.Errorf("Grow(page 2) = %v, %v; want the column extra JSON", added, err)
	}
	_, err = d.Mapping().Rows(page2, nil)
	var re *RecordError
	if !errors.As(err, &re) || re.Key != `id="c"` || re.Column != "at" || !strings.Contains(err.Error(), `"yesterday" is not an RFC 3339 timestamp`) {
		t.Errorf("a value that does not fit: %v", err)
	}

	// Names that cannot be columns.
	_, err = d.Grow([]Record{record(t, `{"id":"d","ID2":1,"Id2":2}`)})
	if !errors.As(err, &re) || re.Key != `id="d"` || !strings.Contains(err.Error(), "differ only in case") {
		t.Errorf("two fields differing in case: %v", err)
	}
	_, err = d.Grow([]Record{record(t, `{"id":"e","PRICE":1}`)})
	if err == nil || !strings.Contains(err.Error(), `"PRICE" and the column "price"`) {
		t.Errorf("a field differing in case from a column: %v", err)
	}
}

func TestInferType(t *testing.T) {
	for in, want := range map[string]Type{`"x"`: String, `"2024-01-02T03:04:05Z"`: UTCDatetime, `"2024-01-02T03:04:05.123+01:00"`: UTCDatetime,
		`"2024-13-02"`: String, `"2024-12-02"`: NaiveDate, `1`: Long, `-1.5`: Double, `1e3`: Double, `123456789012345678901`: Decimal,
		`true`: Boolean, `{}`: JSON, `[]`: JSON, `null`: 0, ` `: 0} {
		if got := InferType([]byte(in)); got != want {
			t.Errorf("InferType(%s) = %v, want %v", in, got, want)
		}
	}
}
