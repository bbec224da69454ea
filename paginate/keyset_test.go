package paginate

import (
	"strconv"
	"testing"
)

// BenchmarkKeySetResume is the runner's share of what a resume costs: a
// key set seeded with the hashes of 50,000 keys a KeyStore loaded.
func BenchmarkKeySetResume(b *testing.B) {
	hashes := make([]uint64, 50_000)
	for i := range hashes {
		hashes[i] = keyHash(strconv.Itoa(i))
	}
	for b.Loop() {
		s := newKeySet()
		for _, h := range hashes {
			s.addHash(h)
		}
	}
}

// BenchmarkKeyHash is the hash of a 36-byte key (a UUID), which every
// record of a sync that tracks keys costs.
func BenchmarkKeyHash(b *testing.B) {
	key := "7f3c8a4e-1b2d-4c5e-8f90-123456789abc"
	var x uint64
	for b.Loop() {
		x += keyHash(key)
	}
	_ = x
}
