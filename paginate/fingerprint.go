package paginate

import (
	"encoding/json"
	"hash/crc32"
	"unsafe"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// PageHash computes a [Page.Fingerprint]: write the bytes of a page's
// records to it, in order, then call Sum64. The fingerprint is two CRC-32s
// of the bytes, Castagnoli's in the high half and IEEE's in the low half,
// so the same records give the same fingerprint in every process, which is
// what lets a resumed run recognise the page committed before it. The two
// polynomials share no factor, so the pair is a 64-bit CRC whose polynomial
// is their product, and the processor computes both (SSE 4.2 and carry-less
// multiplication on amd64, the CRC instructions on arm64), about ten times
// as fast as a 64-bit CRC computed in software. The zero value is ready to
// use.
type PageHash struct {
	c, i    uint32 // CRC-32C, CRC-32 (IEEE)
	written bool
}

// Write adds p to the hash. It never fails.
func (h *PageHash) Write(p []byte) (int, error) {
	h.c = crc32.Update(h.c, castagnoli, p)
	h.i = crc32.Update(h.i, crc32.IEEETable, p)
	h.written = true
	return len(p), nil
}

// WriteString adds s to the hash. It never fails.
func (h *PageHash) WriteString(s string) (int, error) {
	// The CRCs only read the bytes: hash the string's own, rather than
	// copy a string that may be long.
	return h.Write(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// Sum64 returns the fingerprint: zero when nothing was written, and never
// zero otherwise.
func (h *PageHash) Sum64() uint64 {
	if !h.written {
		return 0
	}
	if sum := uint64(h.c)<<32 | uint64(h.i); sum != 0 {
		return sum
	}
	return 1
}

// fingerprint returns the page's fingerprint: the paginator's, or one
// from the items' keys and marks, or from their JSON encoding. An empty
// page has none.
func fingerprint[T any](page *Page[T], key, mark func(T) string) uint64 {
	if page.Fingerprint != 0 || len(page.Items) == 0 {
		return page.Fingerprint
	}
	var h PageHash
	if key != nil {
		for i := range page.Items {
			h.WriteString(key(page.Items[i]))
			h.Write([]byte{0})
			if mark != nil {
				h.WriteString(mark(page.Items[i]))
				h.Write([]byte{0})
			}
		}
		return h.Sum64()
	}
	if err := json.NewEncoder(&h).Encode(page.Items); err != nil {
		// Items that do not encode (a channel, a func) cannot be told
		// apart; positions are still checked.
		return 0
	}
	return h.Sum64()
}
