package strategies

import (
	"encoding"
	"encoding/json"
	"reflect"
	"sync"
)

// Values nested in records. A record's own lists, maps, pointers and
// interfaces are allocated by the decoder beside the page's slice of
// records, and a short text builds a large one: each "{}" of a record's
// list of 128-byte structs is 3 bytes of body and 256 bytes of list (the
// list grows by doubling). The page's spaceReader counts the elements of
// the lists and the members of the objects it passes on, before the
// decoder sees them, and the budget charges each at what the record type
// can make of it at most: so a text whose values would take more than the
// budget fails before they are built, for one test of a counter a read.

// nestCost is what one nested value may take decoded into a record type:
// as an element of a list, as a member of an object, and in any place.
// The zero nestCost is a type of strings, numbers, booleans, arrays and
// structs of them, whose values take no room beyond the record.
type nestCost struct {
	list   int64 // an element of a slice, twice its size for the slice's growth
	member int64 // an entry of a map, with its table's slack and growth
	value  int64 // any value: a pointer's target, an interface's box, a map's header
}

func (c nestCost) zero() bool { return c == nestCost{} }

// ifaceCost is what an interface value's members take in the tree
// encoding/json builds for it: []any's elements, map[string]any's entries.
var ifaceCost = nestCost{list: 2 * 16, member: 2*(16+16) + 16, value: mapCost}

var nestCosts sync.Map // reflect.Type → nestCost

// nestedCost returns what each value nested in a record of type t may
// take decoded: the most that any list, map, pointer or interface that t
// holds, however deep, takes per value. A type with its own UnmarshalJSON
// or UnmarshalText decodes itself and is not looked into.
func nestedCost(t reflect.Type) nestCost {
	if c, ok := nestCosts.Load(t); ok {
		return c.(nestCost)
	}
	var c nestCost
	c.walk(t, map[reflect.Type]bool{}, true)
	nestCosts.Store(t, c)
	return c
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// walk raises c to what a value of type t may take, and the types it
// holds. The record itself (top) takes its room in the page's slice.
func (c *nestCost) walk(t reflect.Type, seen map[reflect.Type]bool, top bool) {
	if seen[t] {
		return
	}
	seen[t] = true
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		pt := reflect.PointerTo(t)
		if pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
			return
		}
	}
	size := func(t reflect.Type) int64 { return int64(t.Size()) }
	switch t.Kind() {
	case reflect.Pointer:
		if !top {
			c.value = max(c.value, size(t.Elem()))
		}
		c.walk(t.Elem(), seen, top)
	case reflect.Slice:
		c.list = max(c.list, 2*size(t.Elem()))
		c.walk(t.Elem(), seen, false)
	case reflect.Array:
		c.walk(t.Elem(), seen, false)
	case reflect.Map:
		c.member = max(c.member, 2*(size(t.Key())+size(t.Elem()))+16)
		if !top {
			c.value = max(c.value, mapCost)
		}
		c.walk(t.Elem(), seen, false)
	case reflect.Struct:
		for i := range t.NumField() {
			c.walk(t.Field(i).Type, seen, false)
		}
	case reflect.Interface:
		c.list = max(c.list, ifaceCost.list)
		c.member = max(c.member, ifaceCost.member)
		c.value = max(c.value, ifaceCost.value)
	}
}

// maxCountedDepth is how deep valueCounter tells lists from objects:
// encoding/json refuses values nested deeper than 10,000 levels. Past it,
// a value counts as both.
const maxCountedDepth = 10_001

// valueCounter counts the values nested in a JSON text from its
// structural bytes outside strings, one at a time: the elements of its
// arrays and the members of its objects. Empty arrays and objects have
// none.
type valueCounter struct {
	lists, members int64
	itemsDepth     int // the elements of arrays this deep are not counted
	depth          int
	open           bool     // the last byte opened an array or object
	isObject       []uint64 // a bit a depth: an object, not an array
}

// token counts c, a byte of the text outside strings that is not white
// space; a string counts by its opening quote.
func (v *valueCounter) token(c byte) {
	if v.open {
		v.open = false
		if c != ']' && c != '}' {
			v.element()
		}
	}
	switch c {
	case '[', '{':
		if v.depth < maxCountedDepth {
			if v.depth/64 == len(v.isObject) {
				v.isObject = append(v.isObject, 0)
			}
			bit := uint64(1) << (v.depth % 64)
			if c == '{' {
				v.isObject[v.depth/64] |= bit
			} else {
				v.isObject[v.depth/64] &^= bit
			}
		}
		v.depth++
		v.open = true
	case ',':
		v.element()
	case ']', '}':
		v.depth = max(v.depth-1, 0)
	}
}

// element counts a value in the array or object at the current depth.
func (v *valueCounter) element() {
	d := v.depth - 1
	switch {
	case d < 0:
	case d >= maxCountedDepth:
		v.lists++
		v.members++
	case v.isObject[d/64]&(1<<(d%64)) != 0:
		v.members++
	case d != v.itemsDepth:
		v.lists++
	}
}
