package strategies

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

// chunked reads from r at most n bytes at a time.
type chunked struct {
	r io.Reader
	n int
}

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

// The fingerprint is the hash of exactly the bytes of the items value, as
// the server sent them, however the body arrives in chunks.
func TestFingerprintIsTheItemsBytes(t *testing.T) {
	long := "[" + strings.Repeat(`{"id":"0123456789","name":"x y z"},`, 200) + `{"id":"last"}]`
	tests := []struct {
		name, items, body string
	}{
		{"root array", "", `[{"id":"a"},{"id":"b"}]`},
		{"root with space", "", " \n\t[ {\"id\": \"a\"} ,{\"id\":\"b\"} ]\n "},
		{"first key", "data", `{"data":[{"id":"a"}],"total":1}`},
		{"last key", "data", `{"total":1,"data":[{"id":"a"},{"id":"b"}]}`},
		{"space around colon", "data", "{\"total\" : 1 , \"data\"  :\n  [{\"id\":\"a\"}]  ,\"x\":[1,2]}"},
		{"nested", "a.b", `{"a":{"z":[1],"b":[{"id":"1"},{"id":"2"}],"c":3},"d":{"b":[9]}}`},
		{"long", "data", `{"meta":{"n":1},"data":` + long + `,"next":"tok"}`},
		{"long at root", "", long},
		{"numbers", "", `[1,2.5,-3e2]`},
		{"strings", "", `["a","b]\"}"]`},
	}
	for _, tt := range tests {
		want := itemsText(t, tt.body, tt.items)
		var h paginate.PageHash
		h.WriteString(want)
		for _, n := range []int{1, 2, 3, 7, 64, 511, 512, 513, 4096, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, n), func(t *testing.T) {
				src, err := sourceSpec[any]{paths: [numSlots]string{tt.items}}.compile()
				if err != nil {
					t.Fatal(err)
				}
				var items []any
				var v values
				if err := src.env.decode(chunked{strings.NewReader(tt.body), n}, itemList[any]{items: &items}, &v); err != nil {
					t.Fatal(err)
				}
				if v.print != h.Sum64() {
					t.Errorf("fingerprint %x, want %x, the hash of %q", v.print, h.Sum64(), want)
				}
			})
		}
	}
}

// itemsText finds the text of the items value by hand: the value after
// the key, up to its matching bracket.
func itemsText(t *testing.T, body, path string) string {
	t.Helper()
	s := body
	if path != "" {
		keys := strings.Split(path, ".")
		for _, k := range keys {
			i := strings.Index(s, `"`+k+`"`)
			if i < 0 {
				t.Fatalf("no key %q in %s", k, body)
			}
			s = s[i+len(k)+2:]
			s = strings.TrimLeft(s, " \t\r\n:")
		}
	}
	s = strings.TrimLeft(s, " \t\r\n")
	depth, inStr := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				return s[:i+1]
			}
		}
	}
	t.Fatalf("unbalanced %s", body)
	return ""
}

// Equal records give equal fingerprints, different ones different; an
// empty page has none, and neither has a Decode function's page.
func TestFingerprintOnPages(t *testing.T) {
	src, err := sourceSpec[map[string]any]{paths: [numSlots]string{"data"}}.compile()
	if err != nil {
		t.Fatal(err)
	}
	read := func(body string) uint64 {
		br := &bodyReader{rc: io.NopCloser(strings.NewReader(body)), max: DefaultMaxBody}
		r, err := src.readBody(br, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r.print
	}
	a := read(`{"page":1,"data":[{"id":"a"}]}`)
	if a == 0 || a != read(`{"page":2,"data":[{"id":"a"}]}`) {
		t.Errorf("the same records on two pages: fingerprints %x and %x", a, read(`{"page":2,"data":[{"id":"a"}]}`))
	}
	if b := read(`{"data":[{"id":"b"}]}`); b == a {
		t.Errorf("other records, same fingerprint %x", b)
	}
	if e := read(`{"data":[]}`); e != 0 {
		t.Errorf("empty page: fingerprint %x, want 0", e)
	}
	if e := read(`{"data":null}`); e != 0 {
		t.Errorf("null page: fingerprint %x, want 0", e)
	}
}
