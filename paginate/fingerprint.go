package paginate

import (
	"encoding/json"
	"hash/crc64"
)

var crcTable = crc64.MakeTable(crc64.ECMA)

// PageHash computes a [Page.Fingerprint]: write the bytes of a page's
// records to it, in order, then call Sum64. It is CRC-64 (ECMA), so the
// same records give the same fingerprint in every process, which is what
// lets a resumed run recognise the page committed before it. The zero value
// is ready to use.
type PageHash struct {
	crc     uint64
	written bool
}

// Write adds p to the hash. It never fails.
func (h *PageHash) Write(p []byte) (int, error) {
	h.crc = crc64.Update(h.crc, crcTable, p)
	h.written = true
	return len(p), nil
}

// WriteString adds s to the hash. It never fails.
func (h *PageHash) WriteString(s string) (int, error) {
	// crc64.Update takes bytes; a short copy on the stack costs less
	// than a conversion that escapes.
	n := len(s)
	var buf [256]byte
	for len(s) > 0 {
		m := copy(buf[:], s)
		h.crc = crc64.Update(h.crc, crcTable, buf[:m])
		s = s[m:]
	}
	h.written = true
	return n, nil
}

// Sum64 returns the fingerprint: zero when nothing was written, and never
// zero otherwise.
func (h *PageHash) Sum64() uint64 {
	if !h.written {
		return 0
	}
	if h.crc == 0 {
		return 1
	}
	return h.crc
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
