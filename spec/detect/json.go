package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// object is a JSON object with its keys in the order of the text.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// parseJSON decodes b into objects, []any, string, json.Number, bool and
// nil.
func parseJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("text after the JSON value")
	}
	return v, nil
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > 200 {
		return nil, errors.New("nested too deep")
	}
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{vals: make(map[string]any)}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				if _, dup := o.vals[k]; !dup {
					o.keys = append(o.keys, k)
				}
				o.vals[k] = v
			}
			_, err := dec.Token()
			return o, err
		case '[':
			var a []any
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if a == nil {
				a = []any{}
			}
			_, err := dec.Token()
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return t, nil
}

// at returns the value at the dotted path in v, the empty path being v.
func at(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for _, k := range splitPath(path) {
		o, ok := v.(*object)
		if !ok {
			return nil, false
		}
		if v, ok = o.get(k); !ok {
			return nil, false
		}
	}
	return v, true
}

// splitPath splits a dotted path, a backslash escaping a dot.
func splitPath(p string) []string {
	var out []string
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			b.WriteByte(p[i])
		case p[i] == '.':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(p[i])
		}
	}
	return append(out, b.String())
}

// joinPath appends key to the dotted path p, escaping its dots.
func joinPath(p, key string) string {
	key = strings.ReplaceAll(key, ".", `\.`)
	if p == "" {
		return key
	}
	return p + "." + key
}

// leaf is a scalar of a response with its path.
type leaf struct {
	path string
	key  string // the last key of path
	v    any
}

// leaves lists the scalars and nulls of v to depth, skipping the array
// at skip (the records).
func leaves(v any, prefix, skip string, depth int, out []leaf) []leaf {
	o, ok := v.(*object)
	if !ok || depth == 0 {
		return out
	}
	for _, k := range o.keys {
		p := joinPath(prefix, k)
		if p == skip {
			continue
		}
		switch x := o.vals[k].(type) {
		case *object:
			out = leaves(x, p, skip, depth-1, out)
		case []any:
		default:
			out = append(out, leaf{path: p, key: k, v: x})
		}
	}
	return out
}

// number returns v as an integer, when it is one.
func number(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// text returns a scalar as text: a string, a number as written, a boolean.
func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	return ""
}
