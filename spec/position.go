package spec

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// doc is a parsed spec file, for finding where a value is written.
type doc struct {
	name    string
	body    ast.Node
	anchors map[string]ast.Node
}

func newDoc(name string, body ast.Node) *doc {
	d := &doc{name: name, body: body, anchors: make(map[string]ast.Node)}
	ast.Walk(anchorVisitor(d.anchors), body)
	return d
}

type anchorVisitor map[string]ast.Node

func (v anchorVisitor) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
		v[a.Name.GetToken().Value] = a.Value
	}
	return v
}

// at returns where the value at path (object keys and array indexes, as
// a JSON Schema's instance location) is written: the position of its key
// when key is set and the value is an object's field, or of the value. A
// path that leads nowhere gives the position of the deepest node found.
func (d *doc) at(path []string, key bool) token.Position {
	n := d.body
	var keyTok *token.Token
	for _, seg := range path {
		n = d.deref(n)
		keyTok = nil
		switch m := n.(type) {
		case *ast.MappingNode:
			kv := d.field(m, seg)
			if kv == nil {
				return pos(n)
			}
			keyTok, n = kv.Key.GetToken(), kv.Value
		case *ast.MappingValueNode:
			if m.Key.GetToken().Value != seg {
				return pos(n)
			}
			keyTok, n = m.Key.GetToken(), m.Value
		case *ast.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(m.Values) {
				return pos(n)
			}
			n = m.Values[i]
		default:
			return pos(n)
		}
	}
	if key && keyTok != nil {
		return *keyTok.Position
	}
	return pos(d.deref(n))
}

// field returns the field name of m, looking into merged mappings (<<).
func (d *doc) field(m *ast.MappingNode, name string) *ast.MappingValueNode {
	for _, kv := range m.Values {
		if kv.Key.GetToken().Value == name {
			return kv
		}
	}
	for _, kv := range m.Values {
		if kv.Key.GetToken().Value != "<<" {
			continue
		}
		switch v := d.deref(kv.Value).(type) {
		case *ast.MappingNode:
			if f := d.field(v, name); f != nil {
				return f
			}
		case *ast.MappingValueNode:
			if v.Key.GetToken().Value == name {
				return v
			}
		}
	}
	return nil
}

// deref follows anchors, aliases and tags to the value they stand for.
func (d *doc) deref(n ast.Node) ast.Node {
	for range 100 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			t, ok := d.anchors[v.Value.GetToken().Value]
			if !ok {
				return n
			}
			n = t
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
	return n
}

// literal returns the text of the scalar at path, as written, or "".
func (d *doc) literal(path []string) string {
	p := d.at(path, false)
	var found string
	ast.Walk(literalFinder{p: p, found: &found}, d.body)
	return found
}

type literalFinder struct {
	p     token.Position
	found *string
}

func (v literalFinder) Visit(n ast.Node) ast.Visitor {
	if *v.found != "" || n == nil {
		return nil
	}
	if _, scalar := n.(ast.ScalarNode); scalar {
		if t := n.GetToken(); t != nil && t.Position.Line == v.p.Line && t.Position.Column == v.p.Column {
			*v.found = t.Origin
			if *v.found == "" {
				*v.found = t.Value
			}
			*v.found = strings.TrimSpace(*v.found)
			return nil
		}
	}
	return v
}

func pos(n ast.Node) token.Position {
	if n == nil || n.GetToken() == nil {
		return token.Position{Line: 1, Column: 1}
	}
	return *n.GetToken().Position
}

// pathString writes an instance location as a reader would:
// streams[0].paging.strategy.
func pathString(path []string) string {
	var b strings.Builder
	for _, seg := range path {
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}
