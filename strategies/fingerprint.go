package strategies

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"sync"

	"github.com/pagekit/pagekit/paginate"
)

// Page fingerprints: the runner takes two positions that served the same
// records for a loop, and needs an identity of a page's records that is the
// same in every process to recognise, after a resume, the page committed
// before it. The strategies compute it from the raw bytes of the records'
// JSON value (the array at the items path, exactly as the server sent it),
// while the items are decoded: nothing is decoded twice and no per-item
// copy is built.
//
// A printReader sits between the body and the json.Decoder. The decoder
// reads ahead, so the reader cannot know by itself where the items begin
// and end; the envelope tells it. At the start of the items value the bytes
// from dec.InputOffset() on are those of dec.Buffered(), which the reader
// copies; from then on it hashes every chunk the decoder reads, one chunk
// late. At the end, the bytes past the value are those of dec.Buffered()
// again, and they all lie in the chunk held back: encoding/json stops
// reading as soon as the closing bracket of an array or object is in its
// buffer, so no chunk after the one holding the value's last byte is read.
// Holding back one chunk (a copy, no larger than the decoder's buffer)
// costs a memmove; the CRC itself is a few microseconds a page.

// printReader hashes the bytes of one JSON value read through it.
type printReader struct {
	r        io.Reader
	on, lead bool // hashing; still skipping the ':' and space before the value
	failed   bool // the value's bounds were not where expected: no fingerprint
	h        paginate.PageHash
	held     []byte // the last chunk read while on, not hashed yet
}

var heldPool = sync.Pool{New: func() any { return new([]byte) }}

func (p *printReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if p.on && n > 0 {
		if len(p.held) > 0 {
			p.h.Write(p.held)
		}
		p.held = append(p.held[:0], p.trim(b[:n])...)
	}
	return n, err
}

// trim drops the separator before the value: a chunk read while the
// value has not begun may start with the colon after its key and space.
func (p *printReader) trim(b []byte) []byte {
	for p.lead && len(b) > 0 {
		switch b[0] {
		case ' ', '\t', '\r', '\n', ':':
			b = b[1:]
		default:
			p.lead = false
		}
	}
	return b
}

// start begins hashing at the decoder's next value.
func (p *printReader) start(dec *json.Decoder) {
	if p.held == nil {
		p.held = (*heldPool.Get().(*[]byte))[:0]
	}
	p.on, p.lead = true, true
	p.held = p.held[:0]
	if br, ok := dec.Buffered().(*bytes.Reader); ok {
		n := br.Len()
		p.held = slices.Grow(p.held, n)[:n]
		m, _ := br.Read(p.held[:n])
		p.held = append(p.held[:0], p.trim(p.held[:m])...)
	} else {
		p.failed = true
	}
}

// end stops hashing at the end of the value just decoded, and returns the
// fingerprint: zero when nothing was hashed or the bounds were not found.
func (p *printReader) end(dec *json.Decoder) uint64 {
	p.on = false
	past := 0
	if br, ok := dec.Buffered().(*bytes.Reader); ok {
		past = br.Len()
	} else {
		p.failed = true
	}
	if past > len(p.held) {
		// The value did not end in the chunk held back: an assumption
		// about the decoder no longer holds. Leave the fingerprint to
		// the runner rather than hash the wrong bytes.
		p.failed = true
	}
	if p.failed {
		return 0
	}
	if n := len(p.held) - past; n > 0 {
		p.h.Write(p.held[:n])
	}
	return p.h.Sum64()
}

// release returns the held buffer to the pool.
func (p *printReader) release() {
	if p.held != nil && cap(p.held) <= 1<<20 {
		b := p.held[:0]
		heldPool.Put(&b)
	}
	p.held = nil
}

// printed fingerprints the raw bytes of the items value an itemDecoder
// decodes.
type printed struct {
	items itemDecoder
	v     *values
}

func (p printed) decodeItems(dec *json.Decoder, path string) error {
	if dec != p.v.dec {
		// Items read from text kept aside (at a negative array index)
		// are not read through the printReader: the runner fingerprints
		// them.
		return p.items.decodeItems(dec, path)
	}
	p.v.pr.start(dec)
	err := p.items.decodeItems(dec, path)
	p.v.print = p.v.pr.end(dec)
	return err
}
