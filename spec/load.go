package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	validator "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Error is what is wrong with a spec, and where: the file, the line and
// the column of the value at fault (or of its key), and its path in the
// spec, such as streams[0].paging.strategy.
type Error struct {
	File   string
	Line   int
	Column int
	// Path is the path of the value at fault, empty for the whole file.
	Path string
	// Msg says what is wrong and, where it can, which values would do.
	Msg string
}

// Error returns "file:line:column: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads the spec in the file path, YAML or JSON, and checks it (see
// [Parse]).
func Load(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b, os.LookupEnv)
}

// Parse reads a spec from data, YAML or JSON, named name in errors, and
// checks it: its shape against the JSON Schema (unknown fields, wrong
// types, unknown strategies), then what the schema cannot say (one
// strategy's settings under another, a parent that is not a stream, a
// credential written in the spec rather than taken from the environment).
// Every ${NAME} must be set in the environment that lookup reads
// (os.LookupEnv for Load), but is not replaced: the spec keeps the
// references, and [Spec.Expand] gives each value when it is used. The
// first problem found is returned as an *[Error].
func Parse(name string, data []byte, lookup func(string) (string, bool)) (*Spec, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlError(name, data, err)
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: "a spec is one YAML document, with streams"}
	}
	d := newDoc(name, f.Docs[0].Body)
	var v any
	if err := yaml.NodeToValue(f.Docs[0].Body, &v); err != nil {
		return nil, yamlError(name, data, err)
	}
	raw, err := json.Marshal(jsonValue(v))
	if err != nil {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("cannot read as JSON: %v", err)}
	}
	inst, err := validator.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: err.Error()}
	}
	sch, err := compiledSchema()
	if err != nil {
		return nil, fmt.Errorf("spec: the JSON Schema: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *validator.ValidationError
		if errors.As(err, &ve) {
			return nil, d.schemaError(ve)
		}
		return nil, err
	}
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, &Error{File: name, Line: 1, Column: 1, Msg: err.Error()}
	}
	c := checker{d: d, raw: inst, lookup: lookup}
	if err := c.check(&s); err != nil {
		return nil, err
	}
	s.lookup, s.doc = lookup, d
	return &s, nil
}

// yamlError turns a YAML parser's error into an *Error, with a hint at
// the likely cause when the line at fault shows one.
func yamlError(name string, data []byte, err error) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return &Error{File: name, Line: 1, Column: 1, Msg: err.Error()}
	}
	p := ye.GetToken().Position
	e := &Error{File: name, Line: p.Line, Column: p.Column, Msg: ye.GetMessage()}
	lines := strings.Split(string(data), "\n")
	if p.Line < 1 || p.Line > len(lines) {
		return e
	}
	line := lines[p.Line-1]
	switch {
	case strings.Contains(line, "${") && strings.ContainsAny(line, "{["):
		// In { } and [ ], YAML reads the { of a bare ${NAME} as a
		// mapping's start.
		e.Msg += `: inside { } or [ ], quote a value that holds a ${NAME}, such as url: "${API}/users"`
	case strings.Contains(e.Msg, "not allowed in this context") || strings.Contains(e.Msg, "could not find expected ':'"):
		e.Msg += ": check this line's indentation against the lines above it"
	}
	return e
}

// jsonValue turns a value decoded from YAML into one encoding/json
// writes as the same JSON: maps with keys of any type get string keys.
func jsonValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = jsonValue(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = jsonValue(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = jsonValue(x)
		}
		return v
	}
	return v
}

// schemaError returns the error of the first problem ve reports, in the
// order of the file.
func (d *doc) schemaError(ve *validator.ValidationError) error {
	leaves := leafErrors(ve, nil)
	var best *Error
	for _, l := range leaves {
		e := d.leafError(l)
		if best == nil || e.Line < best.Line || e.Line == best.Line && e.Column < best.Column {
			best = e
		}
	}
	if best == nil {
		return &Error{File: d.name, Line: 1, Column: 1, Msg: ve.Error()}
	}
	return best
}

func leafErrors(ve *validator.ValidationError, out []*validator.ValidationError) []*validator.ValidationError {
	if len(ve.Causes) == 0 {
		return append(out, ve)
	}
	for _, c := range ve.Causes {
		out = leafErrors(c, out)
	}
	return out
}

var printer = message.NewPrinter(language.English)

// leafError says what one schema error means, in words, where it is.
func (d *doc) leafError(ve *validator.ValidationError) *Error {
	loc := ve.InstanceLocation
	e := &Error{File: d.name, Path: pathString(loc)}
	at := d.at(loc, true)
	switch k := ve.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		field := k.Properties[0]
		at = d.at(append(slices.Clone(loc), field), true)
		valid := propertyNames(ve.SchemaURL)
		e.Msg = fmt.Sprintf("unknown field %q", field)
		if m := closest(field, valid); m != "" {
			e.Msg += fmt.Sprintf(" (did you mean %s?)", m)
		} else if p := nestedIn(ve.SchemaURL, field); p != "" {
			e.Msg += fmt.Sprintf(" (it goes under %s: {%s: ...})", p, field)
		}
		if len(valid) > 0 {
			e.Msg += "; valid: " + strings.Join(valid, ", ")
		}
	case *kind.Required:
		e.Msg = fmt.Sprintf("missing %q", k.Missing[0])
		if len(loc) > 0 {
			at = d.at(loc, true)
		}
	case *kind.Enum:
		var want []string
		for _, w := range k.Want {
			want = append(want, fmt.Sprint(w))
		}
		what := "value"
		if len(loc) > 0 {
			what = loc[len(loc)-1]
		}
		e.Msg = fmt.Sprintf("unknown %s %s", what, quoteJSON(k.Got))
		if got, ok := k.Got.(string); ok {
			if m := closest(got, want); m != "" {
				e.Msg += fmt.Sprintf(" (did you mean %s?)", m)
			}
		}
		e.Msg += "; valid: " + strings.Join(want, ", ")
		at = d.at(loc, false)
	case *kind.Type:
		e.Msg = fmt.Sprintf("want %s, not %s", strings.Join(k.Want, " or "), k.Got)
		if lit := d.literal(loc); lit != "" && len(lit) < 40 {
			e.Msg += " " + lit
		}
		at = d.at(loc, false)
	case *kind.Pattern:
		at = d.at(loc, false)
		if k.Want == secretPattern {
			e.Msg = fmt.Sprintf("a credential comes from the environment only: write ${NAME} (such as ${API_TOKEN}) and set NAME; %q is not one", redactValue(k.Got))
		} else {
			e.Msg = fmt.Sprintf("%q is not valid here (%s)", k.Got, describePattern(k.Want))
		}
	default:
		at = d.at(loc, false)
		e.Msg = ve.ErrorKind.LocalizedString(printer)
	}
	e.Line, e.Column = at.Line, at.Column
	return e
}

// redactValue shows a little of a value that should have been a
// reference to the environment, not the credential.
func redactValue(s string) string {
	if len(s) <= 4 {
		return strings.Repeat("*", len(s))
	}
	return s[:2] + strings.Repeat("*", min(len(s)-2, 8))
}

func describePattern(p string) string {
	switch p {
	case `^[^/]+$`:
		return "no \"/\""
	case (Duration(0)).JSONSchema().Pattern:
		return "a duration such as 30s or 1h30m"
	}
	return "it must match " + p
}

func quoteJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// schemaDef is an object of the schema: its properties, and the object
// each property's value is, by its URL fragment, when it is one.
type schemaDef struct {
	props []string
	refs  map[string]string
}

// schemaDefs holds the objects of the schema by the schema's URL
// fragment, such as "#/$defs/Response".
var schemaDefs = func() map[string]schemaDef {
	var s struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Ref string `json:"$ref"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	out := make(map[string]schemaDef)
	if json.Unmarshal(schemaJSON, &s) != nil {
		return out
	}
	for name, def := range s.Defs {
		d := schemaDef{refs: make(map[string]string)}
		for p, v := range def.Properties {
			d.props = append(d.props, p)
			if v.Ref != "" {
				d.refs[p] = v.Ref
			}
		}
		slices.Sort(d.props)
		out["#/$defs/"+name] = d
	}
	return out
}()

// propertyNames returns the properties of the schema object at url.
func propertyNames(url string) []string {
	return schemaDefs[defOf(url)].props
}

func defOf(url string) string {
	_, frag, _ := strings.Cut(url, "#")
	return "#" + strings.TrimSuffix(frag, "/additionalProperties")
}

// nestedIn returns the property of the schema object at url under
// which field goes, when it is a field of one of its objects, such as
// "checks" for repeated_page_ends in options.
func nestedIn(url, field string) string {
	d := schemaDefs[defOf(url)]
	for _, p := range d.props {
		if slices.Contains(schemaDefs[d.refs[p]].props, field) {
			return p
		}
	}
	return ""
}

// closest returns the name in valid nearest to name, when it is a likely
// typo.
func closest(name string, valid []string) string {
	best, bestD := "", 3
	for _, v := range valid {
		if dist := editDistance(strings.ToLower(name), v); dist < bestD {
			best, bestD = v, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// errorAt returns the *Error of the value at path.
func (d *doc) errorAt(path []string, key bool, format string, args ...any) *Error {
	p := d.at(path, key)
	return &Error{File: d.name, Line: p.Line, Column: p.Column, Path: pathString(path), Msg: fmt.Sprintf(format, args...)}
}
