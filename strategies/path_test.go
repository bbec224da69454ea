package strategies

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePath(t *testing.T) {
	k := func(key string) step { return step{key: key} }
	x := func(i int) step { return step{index: i, isIdx: true} }
	tests := []struct {
		in   string
		want []step
		err  bool
	}{
		{in: "", want: nil},
		{in: ".", want: nil},
		{in: "data", want: []step{k("data")}},
		{in: "meta.next_cursor", want: []step{k("meta"), k("next_cursor")}},
		{in: `a\.b.c`, want: []step{k("a.b"), k("c")}},
		{in: `a\\.b`, want: []step{k(`a\`), k("b")}},
		{in: `a\[0\]`, want: []step{k("a[0]")}},
		{in: "data.items[0].id", want: []step{k("data"), k("items"), x(0), k("id")}},
		{in: "links[-1]", want: []step{k("links"), x(-1)}},
		{in: "[0].records", want: []step{x(0), k("records")}},
		{in: "a[1][-2]", want: []step{k("a"), x(1), x(-2)}},
		{in: "a..b", err: true},
		{in: ".a", err: true},
		{in: "a.", err: true},
		{in: `a\`, err: true},
		{in: `a\b`, err: true},
		{in: "a[", err: true},
		{in: "a[x]", err: true},
		{in: "a[+1]", err: true},
		{in: "a[]", err: true},
		{in: "a[0]b", err: true},
		{in: "a.[0]", err: true},
		{in: "a]", err: true},
	}
	for _, tt := range tests {
		got, err := parsePath(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("parsePath(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(step{})); diff != "" {
			t.Errorf("parsePath(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
		if err == nil && got != nil {
			if back, _ := parsePath(pathString(got)); !cmp.Equal(back, got, cmp.AllowUnexported(step{})) && !strings.ContainsAny(tt.in, `\`) {
				t.Errorf("pathString(%q) = %q does not parse back", tt.in, pathString(got))
			}
		}
	}
}

type rec struct {
	ID int `json:"id"`
}

func TestEnvelopeDecode(t *testing.T) {
	type want struct {
		items []rec
		raw   map[slot]string
		err   string // substring; empty for success
	}
	paths := func(items, total, next string) [numSlots]string {
		return [numSlots]string{slotItems: items, slotTotalItems: total, slotNext: next}
	}
	tests := []struct {
		name  string
		paths [numSlots]string
		body  string
		want  want
	}{
		{"flat", paths("data", "total", ""), `{"data":[{"id":1},{"id":2}],"total":9}`,
			want{items: []rec{{1}, {2}}, raw: map[slot]string{slotTotalItems: "9"}}},
		{"nested", paths("results.items", "meta.total", "meta.next"),
			`{"meta":{"total":"9","next":"abc","x":[1,{"y":2}]},"results":{"items":[{"id":3}]}}`,
			want{items: []rec{{3}}, raw: map[slot]string{slotTotalItems: `"9"`, slotNext: `"abc"`}}},
		{"root array", paths("", "", ""), ` [{"id":1}] `, want{items: []rec{{1}}}},
		{"null items", paths("data", "", ""), `{"data":null}`, want{}},
		{"keys are exact", paths("data", "total", ""), `{"Data":[{"id":7}],"data":[{"id":1}],"TOTAL":5}`,
			want{items: []rec{{1}}}},
		{"skipped values of every kind", paths("data", "", ""),
			`{"a":"s\"}","b":-1.5e3,"c":true,"d":null,"e":{"data":[{"id":9}]},"data":[]}`,
			want{items: []rec{}}},
		{"null parent", paths("data", "meta.total", ""), `{"meta":null,"data":[]}`, want{items: []rec{}}},
		{"duplicate key", paths("data", "", ""), `{"data":[],"data":[{"id":1}]}`, want{err: `"data" appears twice`}},
		{"trailing data", paths("data", "", ""), `{"data":[]} {}`, want{err: "after the JSON value"}},
		{"not an object", paths("data", "", ""), `[{"id":1}]`, want{err: "want an object, got an array"}},
		{"parent not an object", paths("data", "meta.total", ""), `{"meta":3,"data":[]}`, want{err: "meta: want an object, got a number"}},
		{"items not an array", paths("data", "", ""), `{"data":{"id":1}}`, want{err: "data: want an array of records, got an object"}},
		{"truncated", paths("data", "", ""), `{"data":[{"id":1}`, want{err: "unexpected EOF"}},
		{"html", paths("data", "", ""), `<html>`, want{err: "invalid character"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := compileEnvelope(tt.paths)
			if err != nil {
				t.Fatal(err)
			}
			var items []rec
			var v values
			err = env.decode(strings.NewReader(tt.body), itemList[rec]{items: &items}, &v)
			if tt.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want.err) {
					t.Fatalf("decode error = %v, want one containing %q", err, tt.want.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want.items, items); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
			raw := map[slot]string{}
			for s := slotTotalItems; s < numSlots; s++ {
				if v.seen[s] {
					raw[s] = string(v.raw[s])
				}
			}
			if diff := cmp.Diff(tt.want.raw, raw, cmpEmptyMap); diff != "" {
				t.Errorf("values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmptyMap = cmp.FilterValues(func(a, b map[slot]string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())

func TestCompileEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name  string
		paths [numSlots]string
	}{
		{"same path twice", [numSlots]string{slotItems: "data", slotNext: "data"}},
		{"path inside another", [numSlots]string{slotItems: "data", slotNext: "data.next"}},
		{"path holding another", [numSlots]string{slotItems: "meta.items", slotNext: "meta"}},
		{"other path with root items", [numSlots]string{slotItems: "", slotNext: "next"}},
		{"bad path", [numSlots]string{slotItems: "a..b"}},
		{"total at root", [numSlots]string{slotItems: "data", slotTotalItems: "."}},
	}
	for _, tt := range tests {
		if _, err := compileEnvelope(tt.paths); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: compileEnvelope error = %v, want ErrConfig", tt.name, err)
		}
	}
}

func TestScalarValues(t *testing.T) {
	ints := map[string]int64{`12`: 12, `"12"`: 12, `1.2e1`: 12, `" 7 "`: 7, `0`: 0}
	for in, want := range ints {
		if got, err := intValue([]byte(in)); err != nil || got != want {
			t.Errorf("intValue(%s) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{`1.5`, `"x"`, `true`, `{}`, `[]`} {
		if _, err := intValue([]byte(in)); err == nil || errors.Is(err, errNull) {
			t.Errorf("intValue(%s) error = %v, want a type error", in, err)
		}
	}
	if _, err := intValue([]byte("null")); !errors.Is(err, errNull) {
		t.Errorf("intValue(null) error = %v, want errNull", err)
	}
	bools := map[string]bool{`true`: true, `false`: false, `"true"`: true, `"false"`: false}
	for in, want := range bools {
		if got, err := boolValue([]byte(in)); err != nil || got != want {
			t.Errorf("boolValue(%s) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := boolValue([]byte(`1`)); err == nil {
		t.Error("boolValue(1) succeeded, want an error")
	}
	strs := map[string]string{`"abc"`: "abc", `"a\"b\u00e9"`: `a"bé`, `123`: "123", `null`: ""}
	for in, want := range strs {
		if got, err := stringValue([]byte(in)); err != nil || got != want {
			t.Errorf("stringValue(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`{}`, `[1]`, `true`} {
		if _, err := stringValue([]byte(in)); err == nil {
			t.Errorf("stringValue(%s) succeeded, want an error", in)
		}
	}
}

// FuzzPath checks the streaming extractor against a reference: decoding the
// body into map[string]any and walking the path. For any valid JSON object
// without duplicate keys, both must find the same value, or both none.
func FuzzPath(f *testing.F) {
	f.Add("data", `{"data":[1,2],"meta":{"total":3}}`)
	f.Add("meta.total", `{"data":[1,2],"meta":{"total":3}}`)
	f.Add("meta.next", `{"meta":{"next":null}}`)
	f.Add("a.b.c", `{"a":{"b":{"c":"x","d":[{"c":1}]}},"b":2}`)
	f.Add(`a\.b`, `{"a.b":1,"a":{"b":2}}`)
	f.Add("Data", `{"data":1,"DATA":2}`)
	f.Add("x", `{"x":"\u00e9\"","y":[[[]]]}`)
	f.Add("a.b", `{"a":[{"b":1}]}`)
	f.Add("a.b", `{"a":null}`)
	f.Add("", `[]`)
	f.Add("a[0].b", `{"a":[{"b":1},{"b":2}]}`)
	f.Add("a[-1].b", `{"a":[{"b":1},{"b":2}]}`)
	f.Add("a[-3]", `{"a":[1,2]}`)
	f.Add("a[1][-1]", `{"a":[[1],[2,3]]}`)
	f.Add("a[0]", `{"a":{"0":1}}`)
	f.Fuzz(func(t *testing.T, path, body string) {
		keys, perr := parsePath(path)
		env, err := compileEnvelope([numSlots]string{slotItems: "__items_never_present__", slotNext: path})
		if path == "" {
			return // an empty path other than the items' is not read
		}
		if perr != nil || keys == nil {
			if err == nil {
				t.Fatalf("compileEnvelope accepted path %q that parsePath rejects", path)
			}
			return
		}
		if err != nil {
			if !keys[0].isIdx && keys[0].key == "__items_never_present__" {
				return
			}
			t.Fatalf("compileEnvelope(%q): %v", path, err)
		}
		var items []json.RawMessage
		var v values
		derr := env.decode(&spaceReader{r: strings.NewReader(body)}, itemList[json.RawMessage]{items: &items}, &v)

		var ref map[string]any
		if json.Unmarshal([]byte(body), &ref) != nil || ref == nil || hasDuplicateKeys(body) {
			return // the extractor may fail or not; it must only not panic
		}
		want, found, shapeErr := walkRef(ref, keys)
		if shapeErr {
			if derr == nil {
				t.Fatalf("path %q through a non-object in %s: no error", path, body)
			}
			return
		}
		if derr != nil {
			t.Fatalf("decode(%q, %s): %v", path, body, derr)
		}
		if v.seen[slotNext] != found {
			t.Fatalf("path %q in %s: found = %v, reference found = %v", path, body, v.seen[slotNext], found)
		}
		if found {
			var got any
			if err := json.Unmarshal(v.raw[slotNext], &got); err != nil {
				t.Fatalf("extracted %q is not JSON: %v", v.raw[slotNext], err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("path %q in %s mismatch (-ref +extracted):\n%s", path, body, diff)
			}
		}
	})
}

// walkRef follows steps through decoded JSON. A null on the way means not
// found; a value of the wrong kind on the way is a shape error; an index
// past either end is not found.
func walkRef(v any, steps []step) (val any, found, shapeErr bool) {
	for _, st := range steps {
		switch m := v.(type) {
		case map[string]any:
			if st.isIdx {
				return nil, false, true
			}
			x, ok := m[st.key]
			if !ok {
				return nil, false, false
			}
			v = x
		case []any:
			if !st.isIdx {
				return nil, false, true
			}
			i := st.index
			if i < 0 {
				i += len(m)
			}
			if i < 0 || i >= len(m) {
				return nil, false, false
			}
			v = m[i]
		case nil:
			return nil, false, false
		default:
			return nil, false, true
		}
	}
	return v, true, false
}

// hasDuplicateKeys reports whether any object in the JSON text repeats a
// key, which makes "the" value at a path ambiguous.
func hasDuplicateKeys(body string) bool {
	dec := json.NewDecoder(strings.NewReader(body))
	var stack []map[string]bool
	expectKey := []bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = append(expectKey, true)
				continue
			case '[':
				stack = append(stack, nil)
				expectKey = append(expectKey, false)
				continue
			default:
				stack = stack[:len(stack)-1]
				expectKey = expectKey[:len(expectKey)-1]
			}
		case string:
			top := len(stack) - 1
			if top >= 0 && stack[top] != nil && expectKey[top] {
				if stack[top][t] {
					return true
				}
				stack[top][t] = true
				expectKey[top] = false
				continue
			}
		}
		if top := len(stack) - 1; top >= 0 && stack[top] != nil {
			expectKey[top] = true
		}
	}
}
