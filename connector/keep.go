package connector

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// What a partition carries of its parent record: ChildOf.Keep's part of
// it, and in JSON only the members that are not zero, so that a job queue
// or a retry's state holds no more of the synced data than the
// partition's paginator needs.

// keep returns the part of parent its partition needs, checking that Key
// still reads key from it.
func (c *child[P, C]) keep(parent P, key string) (P, error) {
	if c.of.Keep == nil {
		return parent, nil
	}
	kept := c.of.Keep(parent)
	if k := c.of.Key(kept); k != key {
		var zero P
		return zero, fmt.Errorf("ChildOf.Keep drops what Key reads: the kept parent's key is %q, not %q", k, key)
	}
	return kept, nil
}

// kept returns the JSON of the part of parent its partition carries: what
// keep returns, without the members whose value is the zero record's,
// which decode to the same record.
func (c *child[P, C]) kept(parent P, key string) (json.RawMessage, error) {
	p, err := c.keep(parent, key)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode parent %q: %w", key, err)
	}
	if c.of.Keep == nil {
		return raw, nil
	}
	var zero P
	z, err := json.Marshal(zero)
	if err != nil {
		return raw, nil
	}
	return withoutZero(raw, z), nil
}

// withoutZero returns the JSON object raw without the members whose value
// is the same as in the JSON object zero; raw as it is when either is not
// an object.
func withoutZero(raw, zero []byte) []byte {
	zm, ok := members(zero)
	if !ok {
		return raw
	}
	rm, ok := members(raw)
	if !ok {
		return raw
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for _, m := range rm {
		if z, ok := find(zm, m.key); ok && bytes.Equal(z, m.value) {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

type member struct {
	key   string
	value json.RawMessage
}

// members returns the members of a JSON object, in order.
func members(raw []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		ms = append(ms, member{k, v})
	}
	return ms, true
}

func find(ms []member, key string) (json.RawMessage, bool) {
	for _, m := range ms {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}
