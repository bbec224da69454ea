package strategies

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestValueCounter checks what the reader counts of a text: the elements
// of its arrays and the members of its objects, not those of the items
// array, not what strings hold, and nothing for empty ones.
func TestValueCounter(t *testing.T) {
	type counts struct{ Lists, Members int64 }
	for _, tc := range []struct {
		name       string
		text       string
		itemsDepth int
		want       counts
	}{
		{"records in an envelope", `{"data":[{"a":1,"b":[1,2,3]},{}],"next":"x"}`, 1, counts{3, 4}},
		{"records at the root", `[{"x":[{}]} , {"x":[]}]`, 0, counts{1, 2}},
		{"brackets and commas in strings", `{"data":[{"s":"[1,2],{\"a\":[3]}\\"}]}`, 1, counts{0, 2}},
		{"empty arrays and objects", `[[],{},[[]],{"a":{}}]`, -1, counts{5, 1}},
		{"the items' own lists", `{"data":[[1,2],[3]]}`, 1, counts{3, 1}},
		{"lists beside the items", `{"included":[1,2,3],"data":[]}`, 1, counts{0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for size := 1; size <= len(tc.text); size++ {
				c := &valueCounter{itemsDepth: tc.itemsDepth}
				s := &spaceReader{count: c}
				for i := 0; i < len(tc.text); i += size {
					s.compact([]byte(tc.text[i:min(i+size, len(tc.text))]))
				}
				if diff := cmp.Diff(tc.want, counts{c.lists, c.members}); diff != "" {
					t.Fatalf("read %d bytes at a time: counts (-want +got):\n%s", size, diff)
				}
			}
		})
	}
}

// TestNestedCost checks what each nested value may take for a record
// type: nothing for strings, numbers, arrays and structs of them and for
// types that decode themselves; a list's element twice over; a map's entry
// with its slack; a pointer's target; an interface's tree.
func TestNestedCost(t *testing.T) {
	type line struct{ SKU, Name string }
	type tree struct {
		Name string
		Kids []tree
	}
	for _, tc := range []struct {
		typ  reflect.Type
		want nestCost
	}{
		{reflect.TypeFor[struct {
			ID string
			N  int
			A  [4]float64
		}](), nestCost{}},
		{reflect.TypeFor[struct {
			At  time.Time
			Raw json.RawMessage
		}](), nestCost{}},
		{reflect.TypeFor[*struct{ ID string }](), nestCost{}},
		{reflect.TypeFor[struct{ Lines []line }](), nestCost{list: 64}},
		{reflect.TypeFor[struct{ Lines []*line }](), nestCost{list: 16, value: 32}},
		{reflect.TypeFor[struct{ Note *string }](), nestCost{value: 16}},
		{reflect.TypeFor[tree](), nestCost{list: 80}},
		{reflect.TypeFor[map[string]int](), nestCost{member: 64}},
		{reflect.TypeFor[struct{ M map[string]int }](), nestCost{member: 64, value: mapCost}},
		{reflect.TypeFor[map[string]any](), nestCost{list: 32, member: 80, value: mapCost}},
	} {
		if diff := cmp.Diff(tc.want, nestedCost(tc.typ), cmp.AllowUnexported(nestCost{})); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tc.typ, diff)
		}
	}
}
