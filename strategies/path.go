package strategies

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Paths: where the strategies find things in a response body.
//
// A path is a dotted list of object keys, such as "data", "meta.total" or
// "response_metadata.next_cursor", in which any key may be followed by
// array indices: "data.items[0].id", "links[-1].href" (negative indices
// count from the end: -1 is the last element), or "[0].records" for a body
// that is an array. A backslash escapes a dot, a bracket or a backslash
// inside a key ("a\.b" is the key "a.b"). The empty path and "." name the
// body itself, so that an items path of "" reads a body that is a JSON
// array. Keys match exactly, case included: unlike encoding/json's struct
// decoding, "Data" never stands in for "data".

// step is one step of a path: an object key, or an array index.
type step struct {
	key   string
	index int
	isIdx bool
}

func (s step) String() string {
	if s.isIdx {
		return "[" + strconv.Itoa(s.index) + "]"
	}
	return s.key
}

// pathString writes steps back as a path.
func pathString(steps []step) string {
	var b strings.Builder
	for i, s := range steps {
		if i > 0 && !s.isIdx {
			b.WriteByte('.')
		}
		b.WriteString(s.String())
	}
	return b.String()
}

// parsePath splits a path into its steps; nil means the body itself.
func parsePath(s string) ([]step, error) {
	if s == "" || s == "." {
		return nil, nil
	}
	var steps []step
	var key strings.Builder
	keyed := false // the current segment has a key (possibly empty so far)
	flush := func() error {
		if !keyed {
			return nil
		}
		if key.Len() == 0 {
			return fmt.Errorf("path %q has an empty key", s)
		}
		steps = append(steps, step{key: key.String()})
		key.Reset()
		keyed = false
		return nil
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) || !strings.ContainsRune(`.\[]`, rune(s[i+1])) {
				return nil, fmt.Errorf("path %q: a backslash must escape a dot, a bracket or a backslash", s)
			}
			i++
			key.WriteByte(s[i])
			keyed = true
		case '.':
			if !keyed && (len(steps) == 0 || !steps[len(steps)-1].isIdx) {
				return nil, fmt.Errorf("path %q has an empty key", s)
			}
			if err := flush(); err != nil {
				return nil, err
			}
			if i+1 == len(s) || s[i+1] == '.' || s[i+1] == '[' {
				return nil, fmt.Errorf("path %q has an empty key", s)
			}
			keyed = true
		case '[':
			if err := flush(); err != nil {
				return nil, err
			}
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q: an unclosed [", s)
			}
			n, err := strconv.Atoi(s[i+1 : i+end])
			if err != nil || strings.ContainsAny(s[i+1:i+end], "+ ") {
				return nil, fmt.Errorf("path %q: %q is not an array index", s, s[i:i+end+1])
			}
			steps = append(steps, step{index: n, isIdx: true})
			i += end
			if i+1 < len(s) && s[i+1] != '.' && s[i+1] != '[' {
				return nil, fmt.Errorf("path %q: an index must be followed by a dot, another index or the end", s)
			}
		case ']':
			return nil, fmt.Errorf("path %q: an unopened ]", s)
		default:
			key.WriteByte(c)
			keyed = true
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return steps, nil
}

// parseKeys parses a path of object keys only, such as the dotted path of
// a request body field.
func parseKeys(s string) ([]string, error) {
	steps, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	if steps == nil {
		return nil, fmt.Errorf("path %q names no field", s)
	}
	keys := make([]string, len(steps))
	for i, st := range steps {
		if st.isIdx {
			return nil, fmt.Errorf("path %q: a request body field cannot have an array index", s)
		}
		keys[i] = st.key
	}
	return keys, nil
}

// slot names a value a strategy reads from a body.
type slot int8

const (
	slotItems slot = iota
	slotTotalItems
	slotTotalPages
	slotPage
	slotHasMore
	slotNext
	numSlots
)

var slotNames = [numSlots]string{"items", "total items", "total pages", "page", "has-more", "next"}

// node is one level of an envelope: the object keys and array indices to
// descend into or to read.
type node struct {
	kids map[string]*node
	idx  map[int]*node // by array index; negative ones count from the end
	back int           // the largest -index in idx: elements kept from the end
	slot slot          // the value read here, or -1
	path string
}

// child returns the node at step st under n, adding it.
func (n *node) child(st step, path string) *node {
	if st.isIdx {
		kid := n.idx[st.index]
		if kid == nil {
			kid = &node{slot: -1, path: path}
			if n.idx == nil {
				n.idx = make(map[int]*node)
			}
			n.idx[st.index] = kid
			n.back = max(n.back, -st.index)
		}
		return kid
	}
	kid := n.kids[st.key]
	if kid == nil {
		kid = &node{slot: -1, path: path}
		if n.kids == nil {
			n.kids = make(map[string]*node)
		}
		n.kids[st.key] = kid
	}
	return kid
}

// envelope is the compiled set of paths a strategy reads: a tree walked in
// one pass over the body, which decodes the items straight into []T and
// skips everything else without building it.
type envelope struct {
	root        *node
	itemsAtRoot bool
	itemsPath   string
	itemsDepth  int // how many arrays and objects hold the items array
	paths       [numSlots]string
}

// compileEnvelope builds the envelope for the given paths, indexed by
// slot; an empty path other than the items path is not read.
func compileEnvelope(paths [numSlots]string) (*envelope, error) {
	e := &envelope{root: &node{slot: -1}, paths: paths, itemsPath: paths[slotItems]}
	for s := range numSlots {
		p := paths[s]
		if s != slotItems && p == "" {
			continue
		}
		steps, err := parsePath(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %v", ErrConfig, slotNames[s], err)
		}
		if steps == nil {
			if s != slotItems {
				return nil, fmt.Errorf("%w: the %s path cannot be the whole body", ErrConfig, slotNames[s])
			}
			e.itemsAtRoot = true
			continue
		}
		if s == slotItems {
			e.itemsDepth = len(steps)
		}
		n := e.root
		for i, st := range steps {
			if n.slot >= 0 {
				return nil, fmt.Errorf("%w: %s path %q is inside the %s path %q", ErrConfig, slotNames[s], p, slotNames[n.slot], n.path)
			}
			n = n.child(st, pathString(steps[:i+1]))
		}
		if n.slot >= 0 {
			return nil, fmt.Errorf("%w: the %s and %s paths are both %q", ErrConfig, slotNames[n.slot], slotNames[s], p)
		}
		if len(n.kids) > 0 || len(n.idx) > 0 {
			return nil, fmt.Errorf("%w: %s path %q holds other paths", ErrConfig, slotNames[s], p)
		}
		n.slot = s
	}
	if e.itemsAtRoot && (len(e.root.kids) > 0 || len(e.root.idx) > 0) {
		return nil, fmt.Errorf("%w: the items are the whole body, so no other path can be read from it", ErrConfig)
	}
	return e, nil
}

// values are the raw JSON values an envelope read, by slot.
type values struct {
	raw  [numSlots]rawValue
	seen [numSlots]bool
	// print is the fingerprint of the items' raw bytes (see printReader).
	print uint64
	pr    *printReader
	dec   *json.Decoder // the decoder that reads through pr
}

// rawValue keeps a copy of the JSON text of one value.
type rawValue []byte

func (r *rawValue) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// skipValue consumes a value without building it.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// shapeError reports a value of the wrong kind at a path.
type shapeError struct {
	path string
	want string
	got  string
}

func (e *shapeError) Error() string {
	p := e.path
	if p == "" {
		p = "the body"
	}
	return fmt.Sprintf("%s: want %s, got %s", p, e.want, e.got)
}

// itemDecoder decodes the records where a decoder stands: an array, or
// null for none.
type itemDecoder interface {
	decodeItems(dec *json.Decoder, path string) error
}

// decode reads one JSON value from r, handing the items at the items path
// to items and storing the raw values of the other paths into v. It fails
// on anything after the value. A missing path is simply not seen.
func (e *envelope) decode(r io.Reader, items itemDecoder, v *values) error {
	v.pr = &printReader{r: r}
	defer v.pr.release()
	dec := json.NewDecoder(v.pr)
	v.dec = dec
	items = printed{items, v}
	if e.itemsAtRoot {
		if err := items.decodeItems(dec, ""); err != nil {
			return err
		}
		v.seen[slotItems] = true
	} else if err := e.walk(dec, e.root, items, v); err != nil {
		return err
	}
	if tok, err := dec.Token(); err != io.EOF {
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("unexpected data after the JSON value: %w", err)
			}
			return err
		}
		return fmt.Errorf("unexpected %s after the JSON value", describe(tok))
	}
	return nil
}

// walk reads the value at n: an object whose keys it descends into, or an
// array whose indices it descends into, skipping everything else. A null
// where an object or array is expected reads as absent, except for the
// body itself.
func (e *envelope) walk(dec *json.Decoder, n *node, items itemDecoder, v *values) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	switch {
	case tok == json.Delim('{') && (n.kids != nil || n.idx == nil):
		return e.walkObject(dec, n, items, v)
	case tok == json.Delim('[') && n.idx != nil:
		return e.walkArray(dec, n, items, v)
	case tok == nil && n != e.root:
		return nil
	}
	want := "an object"
	if n.kids == nil && n.idx != nil {
		want = "an array"
	}
	return &shapeError{path: n.path, want: want, got: describe(tok)}
}

// walkObject reads the members of an object whose '{' was read.
func (e *envelope) walkObject(dec *json.Decoder, n *node, items itemDecoder, v *values) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if err := e.visit(dec, n.kids[key], items, v); err != nil {
			return err
		}
	}
	_, err := dec.Token() // the closing brace
	return err
}

// walkArray reads the elements of an array whose '[' was read. Elements
// at negative indices are known only at the end: the last n.back elements
// are kept as raw text on the way, and read from it then.
func (e *envelope) walkArray(dec *json.Decoder, n *node, items itemDecoder, v *values) error {
	var ring []json.RawMessage
	if n.back > 0 {
		ring = make([]json.RawMessage, n.back)
	}
	i := 0
	for ; dec.More(); i++ {
		kid := n.idx[i]
		var err error
		switch {
		case ring != nil:
			// Keep every element: it may turn out to be one of the last.
			r := &ring[i%len(ring)]
			if err = dec.Decode(r); err == nil && kid != nil {
				err = e.visit(json.NewDecoder(bytes.NewReader(*r)), kid, items, v)
			}
		default:
			err = e.visit(dec, kid, items, v)
		}
		if err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return err
	}
	for k := 1; k <= n.back && k <= i; k++ {
		kid := n.idx[-k]
		if kid == nil {
			continue
		}
		r := ring[(i-k)%len(ring)]
		if err := e.visit(json.NewDecoder(bytes.NewReader(r)), kid, items, v); err != nil {
			return err
		}
	}
	return nil
}

// visit reads the value the decoder stands at for kid: skipped when kid
// is nil, read into its slot, or walked.
func (e *envelope) visit(dec *json.Decoder, kid *node, items itemDecoder, v *values) error {
	switch {
	case kid == nil:
		return dec.Decode(&skipValue{})
	case kid.slot >= 0:
		if v.seen[kid.slot] {
			return fmt.Errorf("%q appears twice", kid.path)
		}
		v.seen[kid.slot] = true
		if kid.slot == slotItems {
			return items.decodeItems(dec, kid.path)
		}
		return dec.Decode(&v.raw[kid.slot])
	}
	return e.walk(dec, kid, items, v)
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		switch t {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return strconv.Quote(t.String())
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", tok)
}

// errNull marks a value that is null: known to be absent.
var errNull = errors.New("null")

// intValue reads a count or page number: a JSON number with an integral
// value, or such a number in a string. Null is errNull.
func intValue(raw []byte) (int64, error) {
	s := string(raw)
	if s == "null" {
		return 0, errNull
	}
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int64(f)) {
		return int64(f), nil
	}
	return 0, fmt.Errorf("want an integer, got %s", excerpt(raw))
}

// boolValue reads a flag: true or false, or either in a string. Null is
// errNull.
func boolValue(raw []byte) (bool, error) {
	switch string(raw) {
	case "true", `"true"`:
		return true, nil
	case "false", `"false"`:
		return false, nil
	case "null":
		return false, errNull
	}
	return false, fmt.Errorf("want true or false, got %s", excerpt(raw))
}

// stringValue reads a token or URL: a string, or a number's text. Null is
// the empty string.
func stringValue(raw []byte) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	switch c := raw[0]; {
	case c == '"':
		if !strings.ContainsRune(string(raw), '\\') {
			return string(raw[1 : len(raw)-1]), nil
		}
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case c == '-' || c >= '0' && c <= '9':
		return string(raw), nil
	case string(raw) == "null":
		return "", nil
	}
	return "", fmt.Errorf("want a string, got %s", excerpt(raw))
}

func excerpt(raw []byte) string {
	if len(raw) > 40 {
		return string(raw[:37]) + "..."
	}
	return string(raw)
}

// itemList decodes records into a slice one by one, so that the decoder
// never holds more than one record's text, and stops at a limit before the
// records past it are built.
type itemList[T any] struct {
	items  *[]T
	max    int     // zero or less: no limit
	budget *budget // nil: no bound
}

func (l itemList[T]) decodeItems(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if tok == nil {
		return nil // null: no records
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return &shapeError{path: path, want: "an array of records", got: describe(tok)}
	}
	s := *l.items
	if s == nil {
		s = []T{}
	}
	var full [][]T // the chunks filled before s
	done := 0      // the records in full
	room := cap(s) // the room of full and s
	l.budget.charge(room)
	for dec.More() {
		n := done + len(s)
		if l.max > 0 && n >= l.max {
			return fmt.Errorf("%w: more than %d (Limits.MaxItems)", ErrTooManyItems, l.max)
		}
		if len(s) == cap(s) {
			next, err := chunk[T](n, room, l.max, l.budget)
			if err != nil {
				return err
			}
			if len(s) > 0 {
				full = append(full, s)
				done += len(s)
			}
			s, room = next, room+cap(next)
			l.budget.charge(room)
		}
		s = s[:len(s)+1] // room past the length is zeroed
		if err := dec.Decode(&s[len(s)-1]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("record %d: %w", n, err)
		}
	}
	*l.items = join(full, s)
	if _, err = dec.Token(); err == io.EOF { // the closing bracket
		err = io.ErrUnexpectedEOF
	}
	return err
}

// maxSpaceRun is the longest run of white space between JSON tokens that
// spaceReader passes on.
const maxSpaceRun = 64

// spaceReader shortens each run of white space between JSON tokens to
// maxSpaceRun bytes, leaving strings alone. encoding/json's Decoder keeps
// a run of white space in its buffer and rescans it on every read while it
// looks for the next token: a body of 64 MiB of spaces would cost minutes
// of CPU and its size in memory. What the tokenizer sees means the same
// JSON, and a malformed body stays malformed.
//
// With a budget, it also counts the values it passes on into the
// budget's counter, and fails a read that takes the budget over, so that
// the decoder never builds them.
type spaceReader struct {
	r        io.Reader
	budget   *budget // nil, or one whose counter is nil: nothing to count
	count    *valueCounter
	err      error
	inString bool
	escaped  bool // in a string, the last byte was an unescaped backslash
	run      int  // white space bytes kept in the current run
}

// newSpaceReader returns a spaceReader of r that counts the values it
// passes on against b, when b counts them, but for the elements of the
// arrays inside itemsDepth arrays and objects: the records, which take
// their room in the page's slices, or values the envelope skips.
func newSpaceReader(r io.Reader, b *budget, itemsDepth int) *spaceReader {
	s := &spaceReader{r: r}
	if b != nil && b.counted != nil {
		s.budget, s.count = b, b.counted
		s.count.itemsDepth = itemsDepth
	}
	return s
}

func (s *spaceReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	for {
		n, err := s.r.Read(p)
		n = s.compact(p[:n])
		if s.count != nil {
			if s.err = s.budget.check(); s.err != nil {
				return 0, s.err
			}
		}
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
	}
}

// compact drops the excess white space of p in place and returns the
// length kept.
func (s *spaceReader) compact(p []byte) int {
	w := 0
	for i := 0; i < len(p); {
		if s.inString {
			end := s.stringEnd(p[i:])
			if w != i {
				copy(p[w:], p[i:i+end])
			}
			w += end
			i += end
			continue
		}
		c := p[i]
		i++
		switch c {
		case ' ', '\t', '\n', '\r':
			if s.run >= maxSpaceRun {
				continue
			}
			s.run++
		case '"':
			s.inString = true
			s.run = 0
			if s.count != nil {
				s.count.token(c)
			}
		case '[', ']', '{', '}', ',':
			s.run = 0
			if s.count != nil {
				s.count.token(c)
			}
		default: // a number's or a literal's
			s.run = 0
			if s.count != nil && s.count.open {
				s.count.token(c)
			}
		}
		p[w] = c
		w++
	}
	return w
}

// stringEnd returns how much of p belongs to the string being read: up to
// and including its closing quote, or all of p. A quote closes the string
// unless an odd number of backslashes comes right before it: the escapes
// pair up from the first backslash of a run. Strings are most of a JSON
// body, so it looks for quotes with bytes.IndexByte, not byte by byte.
func (s *spaceReader) stringEnd(p []byte) int {
	i := 0
	if s.escaped && len(p) > 0 {
		s.escaped = false
		i++ // p[0] is escaped: it neither closes the string nor escapes
	}
	for {
		j := bytes.IndexByte(p[i:], '"')
		if j < 0 {
			s.escaped = oddBackslashes(p[i:])
			return len(p)
		}
		q := i + j
		if !oddBackslashes(p[i:q]) {
			s.inString = false
			return q + 1
		}
		i = q + 1
	}
}

// oddBackslashes reports whether b ends in an odd number of backslashes,
// the last of which escapes what follows b.
func oddBackslashes(b []byte) bool {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}
