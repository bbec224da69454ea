package paginate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

// BenchmarkPageHash hashes one page of 100 records of about 300 bytes, as
// the strategies do (the raw bytes in the chunks the decoder reads) and as
// the runner does from keys (a short string and a separator a record).
func BenchmarkPageHash(b *testing.B) {
	page := []byte(strings.Repeat(`{"id":"7d9f5b1e-3c2a-4f6b-9e8d-1a2b3c4d5e6f","name":"Ada Lovelace","email":"ada@example.com","address":"12 Analytical Lane, London","company":"Engines Ltd","job":"Programmer","updatedAt":"2024-05-01T12:00:00Z","createdAt":"2020-01-01T00:00:00Z"},`, 100))
	for _, chunk := range []int{512, 4096, len(page)} {
		b.Run(fmt.Sprintf("bytes/chunk=%d", chunk), func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				var h paginate.PageHash
				for p := page; len(p) > 0; {
					n := min(chunk, len(p))
					h.Write(p[:n])
					p = p[n:]
				}
				if h.Sum64() == 0 {
					b.Fatal("zero fingerprint")
				}
			}
		})
	}
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("7d9f5b1e-3c2a-4f6b-9e8d-%012d", i)
	}
	b.Run("keys", func(b *testing.B) {
		b.SetBytes(int64(100 * (len(keys[0]) + 1)))
		for b.Loop() {
			var h paginate.PageHash
			for _, k := range keys {
				h.WriteString(k)
				h.Write([]byte{0})
			}
			if h.Sum64() == 0 {
				b.Fatal("zero fingerprint")
			}
		}
	})
}

// The fingerprint is fixed: CRC-32C in the high half and CRC-32 (IEEE) in
// the low half, whatever the writes' boundaries, so that every process and
// every version computes the same one for the same bytes.
func TestPageHashValue(t *testing.T) {
	const check = "123456789" // the CRC catalogue's check input
	for _, tc := range []struct {
		name  string
		write func(h *paginate.PageHash)
	}{
		{"Write", func(h *paginate.PageHash) { h.Write([]byte(check)) }},
		{"WriteString", func(h *paginate.PageHash) { h.WriteString(check) }},
		{"bytes one at a time", func(h *paginate.PageHash) {
			for i := range len(check) {
				h.Write([]byte{check[i]})
			}
		}},
		{"mixed", func(h *paginate.PageHash) { h.WriteString(check[:4]); h.Write(nil); h.Write([]byte(check[4:])) }},
	} {
		var h paginate.PageHash
		tc.write(&h)
		// CRC-32C of the check input is e3069283, CRC-32 is cbf43926.
		if got, want := h.Sum64(), uint64(0xe3069283_cbf43926); got != want {
			t.Errorf("%s: Sum64 %x, want %x", tc.name, got, want)
		}
	}
	long := strings.Repeat("records ", 10_000)
	var a, b paginate.PageHash
	a.WriteString(long)
	for p := []byte(long); len(p) > 0; p = p[min(len(p), 4093):] {
		b.Write(p[:min(len(p), 4093)])
	}
	if a.Sum64() != b.Sum64() {
		t.Errorf("80 kB in one write %x, in chunks %x", a.Sum64(), b.Sum64())
	}
	var empty paginate.PageHash
	empty.Write(nil)
	if empty.Sum64() == 0 {
		t.Error("a hash written an empty slice is zero; only one never written is")
	}
}
