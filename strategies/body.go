package strategies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// JSON request bodies: a strategy that sends values in a JSON body (a
// token, a page number, a since filter) sets them as fields of the body
// the user configured, at dotted paths, creating the objects on the way.
// The body is never decoded into Go values and encoded again, which would
// turn 9007199254740993 into 9007199254740992 and reorder keys: it is
// parsed once into its members' raw text, and each request writes those
// bytes back as they were, with only the fields being set replaced or
// added.

// bodyTemplate is a JSON object with fields to set on each request.
type bodyTemplate struct {
	root  *jsonObject
	slots int
}

// jsonObject is an object's members, as raw text, in order.
type jsonObject struct {
	members []*objMember
}

// objMember is one member: its key, and either its raw value, a field set
// on each request (slot), or an object a field path descends into.
type objMember struct {
	key      []byte // the key as JSON text, quotes included
	value    []byte // the raw value; nil for a member the template adds
	slot     int    // the field set here, or -1
	child    *jsonObject
	inserted bool // the body did not have this member
}

// compileBody parses body, a JSON object, and places a field at each of
// paths (lists of keys): the i-th path is slot i of render.
func compileBody(body []byte, paths [][]string) (*bodyTemplate, error) {
	root, err := parseObject(body)
	if err != nil {
		return nil, err
	}
	t := &bodyTemplate{root: root, slots: len(paths)}
	for i, keys := range paths {
		if err := root.place(keys, i, keys); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// parseObject splits a JSON object into its members, keeping each key's
// and value's text as it is.
func parseObject(b []byte) (*jsonObject, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	obj := new(jsonObject)
	for dec.More() {
		start := dec.InputOffset()
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		keyEnd := dec.InputOffset()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		key := bytes.TrimLeft(b[start:keyEnd], " \t\r\n,")
		obj.members = append(obj.members, &objMember{key: key, value: v, slot: -1})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return obj, nil
}

// place puts slot at keys under o, descending into (or adding) the
// objects on the way.
func (o *jsonObject) place(keys []string, slot int, path []string) error {
	var m *objMember
	for _, x := range o.members {
		if jsonKeyIs(x.key, keys[0]) {
			m = x // the last of equal keys is the one a decoder keeps
		}
	}
	if m == nil {
		k, _ := json.Marshal(keys[0])
		m = &objMember{key: k, slot: -1, inserted: true}
		o.members = append(o.members, m)
	}
	if len(keys) == 1 {
		if m.slot >= 0 || m.child != nil {
			return fmt.Errorf("body field %q is set twice", strings.Join(path, "."))
		}
		m.slot = slot
		return nil
	}
	if m.slot >= 0 {
		return fmt.Errorf("body field %q is inside another field set", strings.Join(path, "."))
	}
	if m.child == nil {
		switch v := bytes.TrimSpace(m.value); {
		case len(v) == 0 || string(v) == "null":
			m.child = new(jsonObject)
		case v[0] == '{':
			child, err := parseObject(v)
			if err != nil {
				return err
			}
			m.child = child
		default:
			return fmt.Errorf("body field %q: %s is not an object", strings.Join(path, "."), m.key)
		}
	}
	return m.child.place(keys[1:], slot, path)
}

// jsonKeyIs reports whether the JSON text key decodes to k.
func jsonKeyIs(key []byte, k string) bool {
	if !bytes.ContainsRune(key, '\\') {
		return len(key) == len(k)+2 && string(key[1:len(key)-1]) == k
	}
	var s string
	return json.Unmarshal(key, &s) == nil && s == k
}

// render returns the body with the fields set to values, by slot: the
// JSON text of each value, or nil to leave the body's own value (or no
// member at all when the body had none).
func (t *bodyTemplate) render(values [][]byte) []byte {
	b, ok := t.root.appendTo(make([]byte, 0, 256), values)
	if !ok {
		return []byte("{}")
	}
	return b
}

// appendTo appends the object to b. It reports false, appending nothing,
// for an object the template added that got no field.
func (o *jsonObject) appendTo(b []byte, values [][]byte) ([]byte, bool) {
	start := len(b)
	b = append(b, '{')
	n := 0
	for _, m := range o.members {
		mark := len(b)
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, m.key...)
		b = append(b, ':')
		switch {
		case m.slot >= 0 && values[m.slot] != nil:
			b = append(b, values[m.slot]...)
		case m.child != nil:
			var ok bool
			if b, ok = m.child.appendTo(b, values); !ok {
				if m.value == nil {
					b = b[:mark]
					continue
				}
				b = append(b, m.value...)
			}
		case m.value != nil:
			b = append(b, m.value...)
		default:
			b = b[:mark] // an added field without a value this time
			continue
		}
		n++
	}
	if n == 0 && o.added() {
		return b[:start], false
	}
	return append(b, '}'), true
}

// added reports whether every member of o was added by the template: an
// object the body did not have.
func (o *jsonObject) added() bool {
	for _, m := range o.members {
		if !m.inserted {
			return false
		}
	}
	return true
}
