package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Record is a JSON object kept as its text, for records that have no Go
// struct: an API described by a spec rather than by code (see the pagekit
// command), or one whose fields are not known in advance. A paginator
// decodes each record into it (it is a [json.Unmarshaler]); [Bind] maps
// its fields onto a table's columns by name, and [Dynamic] infers and grows
// that table from the records themselves.
//
// Decoding checks that the text is one JSON object and indexes its
// top-level fields, without building any value: a column's value is read
// from the field's text when a row is extracted. Of two fields with the
// same name the last counts, as in encoding/json. A Record never changes
// after decoding, so copies share its text and are safe for concurrent
// use. The zero Record is an empty object.
type Record struct {
	raw    []byte
	fields []recField
}

// recField is one top-level field of a Record: its name and the span of
// its value's text in raw.
type recField struct {
	name       string // aliases raw unless the name had escapes
	start, end int32
	kind       byte // the value's first byte: '"', '{', '[', 't', 'f', 'n', or a number's
}

// ErrNotObject reports a record that is not a JSON object.
var ErrNotObject = errors.New("a record is a JSON object")

// UnmarshalJSON checks that b is one JSON object and indexes its fields.
// It keeps a copy of b.
func (r *Record) UnmarshalJSON(b []byte) error {
	raw := make([]byte, len(b))
	copy(raw, b)
	var s scanner
	s.b = raw
	s.space()
	if s.i >= len(raw) || raw[s.i] != '{' {
		if s.i < len(raw) {
			return fmt.Errorf("schema: %w, not %s", ErrNotObject, kindName(raw[s.i]))
		}
		return fmt.Errorf("schema: %w, not empty text", ErrNotObject)
	}
	if len(raw) > 1<<31-1 {
		return errors.New("schema: record larger than 2 GiB")
	}
	scratch := fieldPool.Get().(*[]recField)
	defer fieldPool.Put(scratch)
	fields, err := s.object((*scratch)[:0], true)
	if err != nil {
		return err
	}
	*scratch = fields[:0]
	s.space()
	if s.i != len(raw) {
		return fmt.Errorf("schema: record: text after the object at offset %d", s.i)
	}
	*r = Record{raw: raw, fields: slices.Clone(fields)}
	return nil
}

// fieldPool holds the slices records are indexed into before they are
// copied at their size.
var fieldPool = sync.Pool{New: func() any { s := make([]recField, 0, 32); return &s }}

// MarshalJSON returns the record's text as it was decoded; the zero
// Record is {}.
func (r Record) MarshalJSON() ([]byte, error) {
	if r.raw == nil {
		return []byte("{}"), nil
	}
	return r.raw, nil
}

// Len returns the number of fields of the record.
func (r Record) Len() int { return len(r.fields) }

// Fields returns the record's fields in the order of its text, each name
// with its value's JSON text (a field repeated later is skipped).
func (r Record) Fields() iter.Seq2[string, json.RawMessage] {
	return func(yield func(string, json.RawMessage) bool) {
		for i := range r.fields {
			f := &r.fields[i]
			if f.kind == 0 {
				continue // repeated later
			}
			if !yield(f.name, r.raw[f.start:f.end:f.end]) {
				return
			}
		}
	}
}

// Raw returns the JSON text of the field name, and whether the record has
// it.
func (r Record) Raw(name string) (json.RawMessage, bool) {
	f := r.field(name, 0)
	if f == nil {
		return nil, false
	}
	return r.raw[f.start:f.end:f.end], true
}

// Text returns the field name as text: a string's value, or the JSON text
// of any other value (a number as it is written, such as 42 or 1.5e3).
// A missing field and null both give "".
func (r Record) Text(name string) string {
	f := r.field(name, 0)
	if f == nil || f.kind == 'n' {
		return ""
	}
	s, err := r.text(f)
	if err != nil {
		return ""
	}
	return s
}

// field returns the field named name, or nil.
func (r *Record) field(name string, hint int) *recField {
	if i := r.index(name, hint); i >= 0 {
		return &r.fields[i]
	}
	return nil
}

// index returns the index of the field named name, looking first from
// fields[hint] on, or -1.
func (r *Record) index(name string, hint int) int {
	n := len(r.fields)
	if hint < 0 || hint >= n {
		hint = 0
	}
	for i := hint; i < n; i++ {
		if f := &r.fields[i]; f.kind != 0 && f.name == name {
			return i
		}
	}
	for i := range hint {
		if f := &r.fields[i]; f.kind != 0 && f.name == name {
			return i
		}
	}
	return -1
}

// text returns the value of f as text: a string unquoted (aliasing the
// record's memory when it has no escapes), anything else as its JSON.
func (r *Record) text(f *recField) (string, error) {
	v := r.raw[f.start:f.end]
	if f.kind != '"' {
		return unsafe.String(&v[0], len(v)), nil
	}
	return unquote(v)
}

// unquote returns the value of the JSON string v (quotes included),
// aliasing v when it has no escapes.
func unquote(v []byte) (string, error) {
	in := v[1 : len(v)-1]
	ascii := true
	for _, c := range in {
		if c == '\\' {
			return unquoteSlow(v)
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(in) {
		return unquoteSlow(v) // invalid UTF-8 replaced, as encoding/json does
	}
	if len(in) == 0 {
		return "", nil
	}
	return unsafe.String(&in[0], len(in)), nil
}

func unquoteSlow(v []byte) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", err
	}
	return s, nil
}

func kindName(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if c == '-' || c >= '0' && c <= '9' {
		return "a number"
	}
	return strconv.QuoteRune(rune(c))
}

// scanner checks JSON text and finds the spans of values in it.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds the nesting of a record's values, as a stack guard.
const maxDepth = 10_000

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("schema: record: invalid JSON at offset %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object reads the object at s.i (its '{') and, with collect, appends
// its fields to fields.
func (s *scanner) object(fields []recField, collect bool) ([]recField, error) {
	s.depth++
	if s.depth > maxDepth {
		return nil, s.errorf("nested deeper than %d", maxDepth)
	}
	s.i++ // '{'
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return fields, nil
	}
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return nil, s.errorf("want a field name")
		}
		ks := s.i
		esc, err := s.str()
		if err != nil {
			return nil, err
		}
		ke := s.i
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return nil, s.errorf("want ':' after a field name")
		}
		s.i++
		s.space()
		vs := s.i
		if err := s.value(); err != nil {
			return nil, err
		}
		if collect {
			var name string
			if esc || !utf8.Valid(s.b[ks:ke]) {
				if name, err = unquote(s.b[ks:ke]); err != nil {
					return nil, s.errorf("field name: %v", err)
				}
			} else if ke-ks > 2 {
				name = unsafe.String(&s.b[ks+1], ke-ks-2)
			}
			for j := range fields {
				if fields[j].kind != 0 && len(fields[j].name) == len(name) && fields[j].name == name {
					fields[j].kind = 0 // the last of the same name counts
				}
			}
			fields = append(fields, recField{name: name, start: int32(vs), end: int32(s.i), kind: s.b[vs]})
		}
		s.space()
		if s.i >= len(s.b) {
			return nil, s.errorf("unterminated object")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return fields, nil
		default:
			return nil, s.errorf("want ',' or '}' in an object")
		}
	}
}

// value reads one value at s.i.
func (s *scanner) value() error {
	if s.i >= len(s.b) {
		return s.errorf("want a value")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, err := s.str()
		return err
	case c == '{':
		_, err := s.object(nil, false)
		return err
	case c == '[':
		return s.array()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.errorf("unexpected %s", strconv.QuoteRune(rune(s.b[s.i])))
}

func (s *scanner) array() error {
	s.depth++
	if s.depth > maxDepth {
		return s.errorf("nested deeper than %d", maxDepth)
	}
	s.i++ // '['
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		s.space()
		if err := s.value(); err != nil {
			return err
		}
		s.space()
		if s.i >= len(s.b) {
			return s.errorf("unterminated array")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.errorf("want ',' or ']' in an array")
		}
	}
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.errorf("want %s", word)
	}
	s.i += len(word)
	return nil
}

// str reads the string at s.i (its opening quote) and reports whether it
// has escapes.
func (s *scanner) str() (escaped bool, err error) {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return false, s.errorf("unterminated escape")
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return false, s.errorf("short \\u escape")
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false, s.errorf("bad \\u escape")
					}
				}
				s.i += 6
			default:
				return false, s.errorf("bad escape")
			}
		case c < 0x20:
			return false, s.errorf("control character in a string")
		default:
			s.i++
		}
	}
	return false, s.errorf("unterminated string")
}

func (s *scanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		s.i = i
		return s.errorf("malformed number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			s.i = i
			return s.errorf("malformed number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			s.i = i
			return s.errorf("malformed number")
		}
	}
	s.i = i
	return nil
}
