package paginate

import (
	"math/bits"
)

// keySet is the set of keys Options.Checks.TrackKeys remembers, in memory that
// stops growing: exact 64-bit hashes of the first exactKeys keys, then a
// blocked Bloom filter of keySetBytes that takes them over.
//
// The filter can answer "seen" for a key that was not (a false positive),
// never "not seen" for one that was. A false positive reports a duplicate
// that did not happen, so the sync counts as drifted and the next one
// reads again from the same mark: it costs a re-read, never a skipped
// record. With 16 MiB and 16 bits a key in one 64-byte block (one cache
// miss a key), the chance that a sync sees a false positive at all is
// about 1 in 400,000 at a million keys, 1 in 700 at two million and 1 in
// 13 at three million; past about four million keys they become likely,
// and such syncs re-read from their mark each time. The exact hashes keep
// syncs of up to 65,536 records free of them.
//
// The hashes are the same in every process (see keyHash), so that a
// [KeyStore] can keep them for a run that resumes the sync.
type keySet struct {
	exact  map[uint64]struct{}
	blocks []keyBlock
}

// A keyBlock is the 512 bits, one cache line, that a key's bits fall in.
type keyBlock [8]uint64

const (
	exactKeys   = 1 << 16
	keySetBytes = 16 << 20
	bitsPerKey  = 16
)

func newKeySet() *keySet {
	return &keySet{exact: make(map[uint64]struct{})}
}

// keyHash returns the hash of a key that the set holds: the two CRC-32s of
// PageHash, which the processor computes, mixed so that every bit of the
// result depends on every bit of both. It is the same in every process.
// The CRC pair is linear, so keys that differ in 64 bits or fewer (the
// same length, a few characters apart, as numbered ids are) never
// collide; other pairs collide with a chance of about 2^-64.
func keyHash(key string) uint64 {
	var h PageHash
	h.WriteString(key)
	x := uint64(h.c)<<32 | uint64(h.i)
	// The finalizer of MurmurHash3: a bijection.
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// addHash adds the key whose hash is h and reports whether it was new.
func (s *keySet) addHash(h uint64) bool {
	if s.blocks == nil {
		if _, ok := s.exact[h]; ok {
			return false
		}
		s.exact[h] = struct{}{}
		if len(s.exact) < exactKeys {
			return true
		}
		s.blocks = make([]keyBlock, keySetBytes/64)
		for h := range s.exact {
			s.set(h)
		}
		s.exact = nil
		return true
	}
	return s.set(h)
}

// set sets the bits of the hash h and reports whether any was clear.
func (s *keySet) set(h uint64) bool {
	// The high bits pick the block. The bits within it come from the top
	// of h times an odd constant, again and again: each depends on all of
	// h, so that two keys in one block share a pattern only when their
	// hashes are equal.
	hi, _ := bits.Mul64(h, uint64(len(s.blocks)))
	b := &s.blocks[hi]
	isNew := false
	for i := 0; i < bitsPerKey; i++ {
		h *= 0x9e3779b97f4a7c15
		bit := h >> 55
		w, m := &b[bit>>6], uint64(1)<<(bit&63)
		if *w&m == 0 {
			isNew = true
			*w |= m
		}
	}
	return isNew
}
