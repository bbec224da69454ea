package strategies

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Where says where a request value goes.
type Where int8

// The places a request value can go.
const (
	// InQuery sends the value as a query parameter: ?page=3.
	InQuery Where = iota
	// InHeader sends the value as a request header: X-Page-Token: abc.
	InHeader
	// InBody sets the value as a field of the JSON request body, at a
	// dotted path whose objects are created as needed: "page.after" gives
	// {"page":{"after":"abc"}}. Page numbers, offsets and sizes are JSON
	// numbers, other values strings. A body makes the method POST unless
	// Request.Method says otherwise; Request.Body is the rest of it.
	InBody
	// InPath puts the value in the path of Request.URL, in place of {name}:
	// https://api.example.com/v1/items/page/{page}.
	InPath
	// Nowhere does not send the value, such as a page size the server
	// fixes itself.
	Nowhere
)

var whereNames = [...]string{InQuery: "query", InHeader: "header", InBody: "body", InPath: "path", Nowhere: "nowhere"}

func (w Where) String() string {
	if w >= 0 && int(w) < len(whereNames) {
		return whereNames[w]
	}
	return fmt.Sprintf("Where(%d)", int(w))
}

// Param says where a value a strategy sends goes, and under what name: a
// query parameter, a header, a dotted JSON body path, or a {name} of the
// URL's path. The zero Param is the strategy's default for the value, such
// as the query parameter "page", or nothing for a value that has no
// default (the since bound, a cursor).
type Param struct {
	// Name is the parameter's or header's name, the body field's dotted
	// path, or the path template's name. Empty means the default name.
	Name string
	// In is where the value goes; the zero value is the query.
	In Where
}

// Query returns the Param of a query parameter.
func Query(name string) Param { return Param{Name: name, In: InQuery} }

// Header returns the Param of a request header.
func Header(name string) Param { return Param{Name: name, In: InHeader} }

// Body returns the Param of a JSON body field at a dotted path.
func Body(path string) Param { return Param{Name: path, In: InBody} }

// Path returns the Param of the {name} in the path of Request.URL.
func Path(name string) Param { return Param{Name: name, In: InPath} }

func (p Param) String() string { return p.In.String() + ":" + p.Name }

// or returns p with def's name when p has none: the zero Param is def,
// and a Param with a place but no name takes def's name there.
func (p Param) or(def Param) Param {
	if p.Name == "" && p.In != Nowhere {
		return Param{Name: def.Name, In: p.In}
	}
	return p
}

// sent reports whether a value placed at p is sent at all.
func (p Param) sent() bool { return p.In != Nowhere && p.Name != "" }

// role names a value a strategy sends, in the order the query carries
// them.
type role int8

const (
	roleSince role = iota
	roleUntil
	roleSize
	rolePos // the page number, offset, cursor or token
	numRoles
)

var roleNames = [numRoles]string{"since", "until", "size", "position"}

// placed is a compiled Param.
type placed struct {
	Param
	keys   []string // InBody: the field's path
	slot   int      // InBody: the body template's slot
	number bool     // InBody: a JSON number, not a string
}

// plan is the compiled form of where a strategy's values go: it builds
// each request from the values of one fetch.
type plan struct {
	c      *client
	method string
	params [numRoles]placed
	// extra is the placement of values named only at fetch time (a
	// compound cursor's parameters): their names follow In.
	extra Where
	body  []byte        // the static body, encoded; nil for none
	tmpl  *bodyTemplate // the body with the placed fields, or nil
	path  *pathTemplate // the URL's path template, or nil
	// queryNames are the query parameters the plan sets, dropped from
	// the static query.
	queryNames []string
}

// compilePlan places the values of params (by role; a zero Param is not
// sent, so resolve defaults before) for the client of h within l. numbers says
// which roles are JSON numbers in a body. extra is where a compound
// cursor's values go.
func (h *Request) compilePlan(l *Limits, params [numRoles]Param, numbers [numRoles]bool, extra Where) (*plan, error) {
	pl := &plan{extra: extra}
	var bodyPaths [][]string
	for r := range numRoles {
		p := params[r]
		if !p.sent() {
			continue
		}
		if p.In < InQuery || p.In > Nowhere {
			return nil, fmt.Errorf("%w: the %s parameter has no place %v", ErrConfig, roleNames[r], p.In)
		}
		pp := placed{Param: p, number: numbers[r], slot: -1}
		switch p.In {
		case InQuery:
			pl.queryNames = append(pl.queryNames, p.Name)
		case InHeader:
			if !validHeaderName(p.Name) {
				return nil, fmt.Errorf("%w: the %s parameter: %q is not a header name", ErrConfig, roleNames[r], p.Name)
			}
		case InBody:
			keys, err := parseKeys(p.Name)
			if err != nil {
				return nil, fmt.Errorf("%w: the %s parameter: %v", ErrConfig, roleNames[r], err)
			}
			pp.keys, pp.slot = keys, len(bodyPaths)
			bodyPaths = append(bodyPaths, keys)
		}
		pl.params[r] = pp
	}
	c, err := h.compile(l, pl.queryNames...)
	if err != nil {
		return nil, err
	}
	pl.c = c
	if err := pl.compilePath(h); err != nil {
		return nil, err
	}
	if h.Body != nil || len(bodyPaths) > 0 || extra == InBody {
		b := []byte("{}")
		if h.Body != nil {
			if b, err = json.Marshal(h.Body); err != nil {
				return nil, fmt.Errorf("%w: Request.Body: %v", ErrConfig, err)
			}
		}
		pl.body = b
		if len(bodyPaths) > 0 || extra == InBody {
			if pl.tmpl, err = compileBody(b, bodyPaths); err != nil {
				return nil, fmt.Errorf("%w: Request.Body must encode as a JSON object to take fields: %v", ErrConfig, err)
			}
		}
	}
	pl.method = strings.ToUpper(h.Method)
	if pl.method == "" && pl.body != nil {
		pl.method = "POST"
	}
	return pl, nil
}

// validHeaderName reports whether s is a token, as header names are.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// kv is one name and value to send, for values named at fetch time.
type kv struct{ name, value string }

// build returns the request for one fetch: vals are the values by role,
// an empty one not sent, and extra the compound cursor's values. The URL
// is the base URL's unless next is set, a next URL the server gave: then
// the values go in its headers and body as placed, and in its query only
// where it lacks the parameter, since the API's own values come first.
// (A next URL gets values only when NextToken.ResendParams is set.)
func (pl *plan) build(vals [numRoles]string, extra []kv, next string) (request, error) {
	req := request{method: pl.method}
	var query []string
	var bodyVals [][]byte
	if pl.tmpl != nil {
		bodyVals = make([][]byte, pl.tmpl.slots)
	}
	var pathVals map[string]string
	var extraFields [][]string
	var extraVals [][]byte
	put := func(p placed, v string) {
		switch p.In {
		case InQuery:
			query = append(query, p.Name, v)
		case InHeader:
			req.headers = append(req.headers, p.Name, v)
		case InBody:
			var b []byte
			if p.number {
				b = []byte(v)
			} else {
				b, _ = json.Marshal(v)
			}
			if p.slot >= 0 {
				bodyVals[p.slot] = b
			} else {
				extraFields = append(extraFields, p.keys)
				extraVals = append(extraVals, b)
			}
		case InPath:
			if pathVals == nil {
				pathVals = make(map[string]string, 2)
			}
			pathVals[p.Name] = v
		}
	}
	for r := range numRoles {
		if p := pl.params[r]; p.sent() && vals[r] != "" {
			put(p, vals[r])
		}
	}
	for _, x := range extra {
		p := placed{Param: Param{Name: x.name, In: pl.extra}, slot: -1}
		if p.In == InBody {
			keys, err := parseKeys(x.name)
			if err != nil {
				return req, fmt.Errorf("%w: cursor parameter: %v", ErrConfig, err)
			}
			p.keys = keys
		}
		put(p, x.value)
	}
	if next != "" {
		req.url = addMissing(next, query)
	} else {
		prefix := pl.c.prefix
		if pl.path != nil {
			var err error
			if prefix, err = pl.path.fill(pathVals); err != nil {
				return req, err
			}
		}
		req.url = pl.c.buildURL(prefix, query...)
	}
	if pl.body != nil {
		req.body = pl.body
		if pl.tmpl != nil {
			req.body = pl.tmpl.render(bodyVals)
			if len(extraFields) > 0 {
				// Fields named at fetch time: place them on the rendered
				// body, which keeps the others' bytes as they are.
				t, err := compileBody(req.body, extraFields)
				if err != nil {
					return req, fmt.Errorf("%w: cursor parameters in the body: %v", ErrConfig, err)
				}
				req.body = t.render(extraVals)
			}
		}
	}
	return req, nil
}

// addMissing returns the URL u with the query parameters kv (name and
// value pairs) that it lacks appended, in order.
func addMissing(u string, kv []string) string {
	if len(kv) == 0 {
		return u
	}
	pu, err := url.Parse(u)
	if err != nil {
		return u // the request fails on it
	}
	q := pu.Query()
	var b strings.Builder
	b.WriteString(pu.RawQuery)
	for i := 0; i+1 < len(kv); i += 2 {
		if q.Has(kv[i]) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[i]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[i+1]))
	}
	pu.RawQuery = b.String()
	return pu.String()
}

// pathTemplate is the path of Request.URL with {name} placeholders: the
// prefix before the query, cut at each placeholder.
type pathTemplate struct {
	lits   []string // len(names)+1 pieces of the escaped prefix
	names  []string
	static map[string]string // Request.PathValues
}

var placeholder = regexp.MustCompile(`%7B([^%/?#]+)%7D`)

// compilePath finds the {name} placeholders of the URL's path, and checks
// that each has a value: Request.PathValues, or a Param placed there.
func (pl *plan) compilePath(h *Request) error {
	prefix := pl.c.prefix
	locs := placeholder.FindAllStringSubmatchIndex(prefix, -1)
	inPath := map[string]bool{}
	for _, p := range pl.params {
		if p.In == InPath && p.sent() {
			inPath[p.Name] = true
		}
	}
	if len(locs) == 0 {
		for name := range inPath {
			return fmt.Errorf("%w: a parameter goes in the path as {%s}, but Request.URL has no {%s}", ErrConfig, name, name)
		}
		for name := range h.PathValues {
			return fmt.Errorf("%w: Request.PathValues has %q, but Request.URL has no {%s}", ErrConfig, name, name)
		}
		return nil
	}
	t := &pathTemplate{static: h.PathValues}
	at := 0
	seen := map[string]bool{}
	for _, l := range locs {
		name, err := url.PathUnescape(prefix[l[2]:l[3]])
		if err != nil {
			return fmt.Errorf("%w: Request.URL: the placeholder %q: %v", ErrConfig, prefix[l[0]:l[1]], err)
		}
		_, static := h.PathValues[name]
		if !static && !inPath[name] {
			return fmt.Errorf("%w: Request.URL has {%s}, but neither Request.PathValues nor a parameter gives it a value", ErrConfig, name)
		}
		t.lits = append(t.lits, prefix[at:l[0]])
		t.names = append(t.names, name)
		seen[name] = true
		at = l[1]
	}
	t.lits = append(t.lits, prefix[at:])
	for name := range inPath {
		if !seen[name] {
			return fmt.Errorf("%w: a parameter goes in the path as {%s}, but Request.URL has no {%s}", ErrConfig, name, name)
		}
	}
	for name := range h.PathValues {
		if !seen[name] {
			return fmt.Errorf("%w: Request.PathValues has %q, but Request.URL has no {%s}", ErrConfig, name, name)
		}
	}
	pl.path = t
	return nil
}

// fill returns the URL prefix with each placeholder replaced by its value,
// escaped as a path segment.
func (t *pathTemplate) fill(vals map[string]string) (string, error) {
	var b strings.Builder
	for i, name := range t.names {
		b.WriteString(t.lits[i])
		v, ok := vals[name]
		if !ok {
			v, ok = t.static[name]
		}
		if !ok || v == "" {
			return "", fmt.Errorf("%w: no value for {%s} in the URL's path", ErrConfig, name)
		}
		b.WriteString(url.PathEscape(v))
	}
	b.WriteString(t.lits[len(t.names)])
	return b.String(), nil
}
