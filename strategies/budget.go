package strategies

import (
	"fmt"
	"reflect"
)

// A page's memory. MaxBody bounds the bytes of a body and MaxItems the
// records of a page, but a record's decoded form may take far more than
// its text: "{}" is 3 bytes of a body and a whole T in the page's slice,
// 128 bytes for a record of eight strings, a kilobyte for a wide struct.
// A budget bounds the room of that slice, in proportion to the bytes of
// the body read so far or to Limits.MaxDecoded, so that a legal page of
// empty records cannot take hundreds of times its size; what the records'
// strings point to is bounded by the body itself.

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

// budget bounds the room of a page's slice of records. The zero budget
// has no bound.
type budget struct {
	br    *bodyReader // the body being decoded, for its bytes read so far
	fixed int64       // Limits.MaxDecoded when positive; negative: no bound
	cost  int64       // the bytes a record takes in the slice, and beyond
}

// newBudget returns the budget of a page of records of type T read
// through br.
func newBudget[T any](br *bodyReader) budget {
	b := budget{br: br, cost: recordCost(reflect.TypeFor[T]())}
	if br != nil && br.ex != nil {
		b.fixed = br.ex.c.maxDecoded
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
func (b budget) bytes() (int64, bool) {
	switch {
	case b.fixed < 0 || b.cost == 0:
		return 0, false
	case b.fixed > 0:
		return b.fixed, true
	}
	var read int64
	if b.br != nil {
		read = b.br.n
	}
	return max(decodedRatio*read, minDecoded), true
}

// records returns how many records the page's slice may hold now, and
// false when there is no bound.
func (b budget) records() (int, bool) {
	n, ok := b.bytes()
	if !ok {
		return 0, false
	}
	return int(min(n/b.cost, 1<<40)), true
}

// exceeded is the error for a page whose records need more room than the
// budget gives.
func (b budget) exceeded(n int) error {
	lim, _ := b.bytes()
	if b.fixed > 0 {
		return fmt.Errorf("%w: more than %d records of %d bytes would take more than %d bytes decoded (Limits.MaxDecoded)",
			ErrTooManyItems, n, b.cost, lim)
	}
	return fmt.Errorf("%w: more than %d records of %d bytes would take more than %d bytes decoded, %d times the %d bytes of "+
		"body they came from (set Limits.MaxDecoded to allow more)", ErrTooManyItems, n, b.cost, lim, decodedRatio, b.read())
}

func (b budget) read() int64 {
	if b.br == nil {
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
func chunk[T any](n, room, maxItems int, b budget) ([]T, error) {
	want := max(room, 16)
	if maxItems > 0 {
		want = min(want, maxItems-n)
	}
	if lim, ok := b.records(); ok && room+want > lim {
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
