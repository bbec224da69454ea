// Package keypage holds what the database sinks share to be a
// paginate.KeyStore: the encoding of a page of key hashes as one value,
// and the pages waiting for their stream's next checkpoint.
package keypage

import (
	"encoding/binary"
	"fmt"
)

// A Page is the key hashes of one page of a sync in progress, encoded, and
// the records the sync had committed with it.
type Page struct {
	Items int64
	Keys  []byte
}

// Encode returns keys as one value: 8 bytes each, little-endian.
func Encode(keys []uint64) []byte {
	b := make([]byte, 8*len(keys))
	for i, k := range keys {
		binary.LittleEndian.PutUint64(b[8*i:], k)
	}
	return b
}

// Decode appends the keys of b, as Encode wrote them, to out.
func Decode(out []uint64, b []byte) ([]uint64, error) {
	if len(b)%8 != 0 {
		return out, fmt.Errorf("a page of keys of %d bytes, not a multiple of 8", len(b))
	}
	for i := 0; i < len(b); i += 8 {
		out = append(out, binary.LittleEndian.Uint64(b[i:]))
	}
	return out, nil
}

// Pending are the pages of keys that SaveKeys was given, by stream, until
// the stream's next checkpoint is written with them. The zero value is
// ready to use; it is not safe for concurrent use.
type Pending struct {
	m map[string][]Page
}

// Add keeps the keys of a page of stream's sync.
func (p *Pending) Add(stream string, items int64, keys []uint64) {
	if p.m == nil {
		p.m = make(map[string][]Page)
	}
	p.m[stream] = append(p.m[stream], Page{Items: items, Keys: Encode(keys)})
}

// Of returns the pages waiting for stream's checkpoint.
func (p *Pending) Of(stream string) []Page { return p.m[stream] }

// Drop forgets the pages of stream: they were written, or belong to a
// commit that did not complete.
func (p *Pending) Drop(stream string) { delete(p.m, stream) }
