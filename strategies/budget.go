package strategies

import (
	"fmt"
	"reflect"
	"strings"
)

// A page's memory. MaxBody bounds the bytes of a body and MaxItems the
// records of a page, but a record's decoded form may take far more than
// its text: "{}" is 3 bytes of a body and a whole T in the page's slice,
// 128 bytes for a record of eight strings, a kilobyte for a wide struct;
// and the same "{}" in a record's own list is a whole element of that
// list. A budget bounds both, in proportion to the bytes of the body read
// so far or to Limits.MaxDecoded, so that a legal page cannot take
// hundreds of times its size: the room of the page's slice of records,
// and what the values nested in the records may take (see nested.go).
// What strings point to is bounded by the body itself.

// decodedRatio is how many times the bytes of its body read so far a
// page's records may take decoded when Limits.MaxDecoded is zero; minDecoded
// is what they may take whatever the body, so that pages of a few records
// of a wide type never trip the ratio.
const (
	decodedRatio = 16
	minDecoded   = 16 << 20
)

// mapCost is what a decoded map (or an interface holding one) takes before
// its members: the map's header.
const mapCost = 48

// budget bounds what a page's records take decoded: the room of the
// page's slices of records, and the values nested in the records, which
// the page's spaceReader counts as the body is read, before the decoder
// builds them. A nil budget has no bound.
type budget struct {
	br    *bodyReader // the body being decoded, for its bytes read so far
	fixed int64       // Limits.MaxDecoded when positive; negative: no bound
	cost  int64       // the bytes a record takes in the slice, and beyond
	typ   reflect.Type

	// nest is what each value nested in a record may take; counted is
	// nil when that is nothing (records of strings and numbers) or when
	// there is no bound.
	nest    nestCost
	counted *valueCounter
	room    int64 // the records the page's slices have room for
}

// newBudget returns the budget of a page of records of type T read
// through br.
func newBudget[T any](br *bodyReader) *budget {
	t := reflect.TypeFor[T]()
	b := &budget{br: br, cost: recordCost(t), typ: t}
	if br != nil && br.ex != nil {
		b.fixed = br.ex.c.maxDecoded
	}
	if b.nest = nestedCost(t); !b.nest.zero() && b.fixed >= 0 {
		b.counted = new(valueCounter)
	}
	return b
}

// recordCost returns what one decoded record of type t takes: its size in
// the slice, and for a map, an interface or a pointer what each record
// allocates beside it. What strings and slices point to is left out: it is
// no larger than the text it came from.
func recordCost(t reflect.Type) int64 {
	n := int64(t.Size())
	switch t.Kind() {
	case reflect.Map, reflect.Interface:
		n += mapCost
	case reflect.Pointer:
		n += recordCost(t.Elem())
	}
	return max(n, 1)
}

// bytes returns the room the page's records may take now, and false when
// there is no bound.
func (b *budget) bytes() (int64, bool) {
	switch {
	case b == nil || b.fixed < 0 || b.cost == 0:
		return 0, false
	case b.fixed > 0:
		return b.fixed, true
	}
	return max(decodedRatio*b.read(), minDecoded), true
}

// nested returns what the values nested in the records read so far may
// take.
func (b *budget) nested() int64 {
	if b == nil || b.counted == nil {
		return 0
	}
	c := b.counted
	return c.lists*(b.nest.list+b.nest.value) + c.members*(b.nest.member+b.nest.value)
}

// recordsFit returns how many records the page's slices may hold now, and
// false when there is no bound.
func (b *budget) recordsFit() (int, bool) {
	n, ok := b.bytes()
	if !ok {
		return 0, false
	}
	return int(min(max(n-b.nested(), 0)/b.cost, 1<<40)), true
}

// charge records that the page's slices have room for room records.
func (b *budget) charge(room int) {
	if b != nil {
		b.room = int64(room)
	}
}

// check fails when the records' room and the values nested in them take
// more than the budget: the reader calls it after each read, so that the
// decoder never builds the values of a text that went over.
func (b *budget) check() error {
	lim, ok := b.bytes()
	if !ok || b.nested()+b.room*b.cost <= lim {
		return nil
	}
	return b.nestedExceeded()
}

// exceeded is the error for a page whose records need more room than the
// budget gives.
func (b *budget) exceeded(n int) error {
	what := fmt.Sprintf("more than %d records of %d bytes", n, b.cost)
	if nest := b.nested(); nest > 0 {
		what += fmt.Sprintf(", beside %d bytes of values nested in them,", nest)
	}
	return b.over(what)
}

// nestedExceeded is the error for a page whose records' nested values,
// beside the records, need more room than the budget gives.
func (b *budget) nestedExceeded() error {
	c := b.counted
	var parts []string
	if c.lists > 0 && b.nest.list+b.nest.value > 0 {
		parts = append(parts, fmt.Sprintf("%d list elements of up to %d bytes", c.lists, b.nest.list+b.nest.value))
	}
	if c.members > 0 && b.nest.member+b.nest.value > 0 {
		parts = append(parts, fmt.Sprintf("%d object members of up to %d bytes", c.members, b.nest.member+b.nest.value))
	}
	return b.over(fmt.Sprintf("%s nested in the records (decoded into %v), with room for %d records of %d bytes,",
		strings.Join(parts, " and "), b.typ, b.room, b.cost))
}

// over is the error for what, decoded into the page's type, taking more
// than the budget: it names the budget and how to raise it.
func (b *budget) over(what string) error {
	lim, _ := b.bytes()
	if b.fixed > 0 {
		return fmt.Errorf("%w: %s would take more than %d bytes decoded (Limits.MaxDecoded)", ErrTooManyItems, what, lim)
	}
	return fmt.Errorf("%w: %s would take more than %d bytes decoded, %d times the %d bytes of "+
		"body they came from (set Limits.MaxDecoded to allow more)", ErrTooManyItems, what, lim, decodedRatio, b.read())
}

func (b *budget) read() int64 {
	if b == nil || b.br == nil {
		return 0
	}
	return b.br.n
}

// chunk returns an empty slice for the next records of a page that holds
// n records in slices of room records in all: as large again as the room
// so far (at least 16), never past maxItems records in all (zero: no limit)
// nor the budget. The page is decoded into such chunks and joined once at
// the end, so that no slice is copied into a larger one on the way: the
// records take their room once, within the budget, and twice only while
// a page of several chunks is joined.
func chunk[T any](n, room, maxItems int, b *budget) ([]T, error) {
	want := max(room, 16)
	if maxItems > 0 {
		want = min(want, maxItems-n)
	}
	if lim, ok := b.recordsFit(); ok && room+want > lim {
		if lim <= room {
			return nil, b.exceeded(n)
		}
		want = lim - room
	}
	return make([]T, 0, want), nil
}

// join returns the records of the chunks full, then of last, in one
// slice.
func join[T any](full [][]T, last []T) []T {
	if len(full) == 0 {
		return last
	}
	n := len(last)
	for _, c := range full {
		n += len(c)
	}
	s := make([]T, 0, n)
	for i, c := range full {
		s = append(s, c...)
		full[i] = nil // let the chunk go as soon as it is copied
	}
	return append(s, last...)
}
