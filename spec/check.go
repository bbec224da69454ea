package spec

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// checker checks what the JSON Schema cannot say about a spec.
type checker struct {
	d      *doc
	raw    any // the spec as JSON values, to tell a field left out from a zero one
	lookup func(string) (string, bool)
}

// strategyOf says which strategy each setting of Paging belongs to.
var strategyOf = map[string]Strategy{
	"page_param": PageNumber, "first_page": PageNumber, "zero_based": PageNumber, "omit_first_page": PageNumber,
	"page_path": PageNumber, "max_page": PageNumber,
	"offset_param": Offset, "max_offset": Offset, "overlap": Offset,
	"cursor_param": Cursor, "cursor_field": Cursor, "cursor_params": Cursor, "inclusive": Cursor,
	"token_path": NextToken, "token_header": NextToken, "next_url_path": NextToken, "link_rel": NextToken,
	"token_param": NextToken, "first_token": NextToken, "by_position": NextToken,
}

func (c *checker) check(s *Spec) error {
	if err := c.env(c.raw, nil); err != nil {
		return err
	}
	names := make(map[string]int)
	for i := range s.Streams {
		st := &s.Streams[i]
		at := func(p ...string) []string { return append([]string{"streams", strconv.Itoa(i)}, p...) }
		if j, dup := names[st.Name]; dup {
			return c.d.errorAt(at("name"), false, "the stream %q is named twice (streams[%d] too)", st.Name, j)
		}
		names[st.Name] = i
		for _, check := range []func(*Stream, func(...string) []string) error{c.paging, c.request, c.window, c.table} {
			if err := check(st, at); err != nil {
				return err
			}
		}
	}
	for i := range s.Streams {
		if err := c.parent(s, i); err != nil {
			return err
		}
	}
	return nil
}

// fields returns the keys written in the object at path.
func (c *checker) fields(path ...string) []string {
	v := c.raw
	for _, seg := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	m, _ := v.(map[string]any)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (c *checker) paging(st *Stream, at func(...string) []string) error {
	p := &st.Paging
	for _, f := range c.fields(at("paging")...) {
		if owner, ok := strategyOf[f]; ok && owner != p.Strategy {
			return c.d.errorAt(at("paging", f), true, "%s is a setting of the %s strategy, not of %s", f, owner, p.Strategy)
		}
	}
	for _, f := range []struct {
		name string
		v    Param
	}{{"size_param", p.SizeParam}, {"page_param", p.PageParam}, {"offset_param", p.OffsetParam},
		{"cursor_param", p.CursorParam}, {"token_param", p.TokenParam}} {
		if _, err := parseParam(f.v); err != nil {
			return c.d.errorAt(at("paging", f.name), false, "%v", err)
		}
	}
	switch p.Strategy {
	case Cursor:
		switch {
		case len(p.CursorParams) > 0 && (p.CursorField != "" || p.Inclusive):
			return c.d.errorAt(at("paging", "cursor_params"), true, "a compound cursor (cursor_params) takes neither cursor_field nor inclusive")
		case len(p.CursorParams) == 0 && (p.CursorParam == "" || p.CursorField == ""):
			return c.d.errorAt(at("paging"), true, "the cursor strategy needs cursor_param (where the cursor goes) and cursor_field (the record field it comes from), or cursor_params")
		case p.Inclusive && p.Size == 0:
			return c.d.errorAt(at("paging", "inclusive"), true, "an inclusive cursor needs size, to tell the end of the data from a page of ties")
		}
	case NextToken:
		n := 0
		for _, v := range []string{p.TokenPath, p.TokenHeader, p.NextURLPath, p.LinkRel} {
			if v != "" {
				n++
			}
		}
		switch {
		case n != 1:
			return c.d.errorAt(at("paging"), true, "the next_token strategy takes one of token_path, token_header, next_url_path and link_rel, not %d", n)
		case (p.TokenPath != "" || p.TokenHeader != "") && p.TokenParam == "":
			return c.d.errorAt(at("paging"), true, "a token needs token_param, where the next request sends it back")
		}
	}
	return nil
}

func (c *checker) request(st *Stream, at func(...string) []string) error {
	r := &st.Request
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && !strings.HasPrefix(r.URL, "${")) {
		return c.d.errorAt(at("request", "url"), false, "want an absolute http or https URL, not %q", r.URL)
	}
	for _, sec := range []struct {
		field string
		m     map[string]string
	}{{"query", r.Query}, {"header", r.Header}} {
		for k, v := range sec.m {
			if (paginate.SecretName(k) || slices.ContainsFunc(r.Secrets, func(s string) bool { return strings.EqualFold(s, k) })) &&
				v != "" && !strings.Contains(v, "${") {
				return c.d.errorAt(at("request", sec.field, k), false,
					"%s %q holds a credential, which comes from the environment only: write ${NAME} (such as ${API_TOKEN}) and set NAME", sec.field, k)
			}
		}
	}
	if a := r.Auth; a != nil {
		n := 0
		for _, set := range []bool{a.Bearer != "", a.Basic != nil, a.APIKey != nil, a.OAuth2 != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return c.d.errorAt(at("request", "auth"), true, "auth takes one of bearer, basic, api_key and oauth2, not %d", n)
		}
		if k := a.APIKey; k != nil && (k.Header == "") == (k.Query == "") {
			return c.d.errorAt(at("request", "auth", "api_key"), true, "api_key takes header or query: where the key goes")
		}
		if o := a.OAuth2; o != nil && o.ClientSecret == "" && o.RefreshToken == "" {
			return c.d.errorAt(at("request", "auth", "oauth2"), true, "oauth2 needs client_secret (client credentials) or refresh_token")
		}
	}
	return nil
}

func (c *checker) window(st *Stream, at func(...string) []string) error {
	w := &st.Window
	for _, f := range []struct {
		name string
		v    Param
	}{{"since_param", w.SinceParam}, {"until_param", w.UntilParam}} {
		if _, err := parseParam(f.v); err != nil {
			return c.d.errorAt(at("window", f.name), false, "%v", err)
		}
	}
	switch {
	case w.NewestFirst && st.Options.HighWater == "":
		return c.d.errorAt(at("window", "newest_first"), true, "newest_first needs options.high_water: the record field it compares with the lower bound")
	case w.SinceParam != "" && st.Options.HighWater == "" && w.UntilParam == "":
		return c.d.errorAt(at("window", "since_param"), true,
			"since_param needs options.high_water, the record field whose largest value is the next sync's since (or until_param, whose value is)")
	}
	return nil
}

func (c *checker) table(st *Stream, at func(...string) []string) error {
	for i, k := range st.Table.PrimaryKey {
		if k == "" {
			return c.d.errorAt(at("table", "primary_key", strconv.Itoa(i)), false, "an empty field name")
		}
	}
	return nil
}

func (c *checker) parent(s *Spec, i int) error {
	st := &s.Streams[i]
	p := st.Parent
	if p == nil {
		return nil
	}
	at := func(f ...string) []string { return append([]string{"streams", strconv.Itoa(i), "parent"}, f...) }
	j := slices.IndexFunc(s.Streams, func(o Stream) bool { return o.Name == p.Stream })
	var names []string
	for _, o := range s.Streams {
		if o.Parent == nil && o.Name != st.Name {
			names = append(names, o.Name)
		}
	}
	switch {
	case j < 0:
		return c.d.errorAt(at("stream"), false, "no stream is named %q; top-level streams: %s", p.Stream, strings.Join(names, ", "))
	case j == i:
		return c.d.errorAt(at("stream"), false, "a stream cannot be its own parent")
	case s.Streams[j].Parent != nil:
		return c.d.errorAt(at("stream"), false, "%q is itself a child stream; a parent is a top-level stream: %s", p.Stream, strings.Join(names, ", "))
	}
	placeholders := pathPlaceholders(st.Request.URL)
	for k := range p.PathValues {
		if !slices.Contains(placeholders, k) {
			return c.d.errorAt(at("path_values", k), true, "the URL %q has no {%s} in its path", st.Request.URL, k)
		}
	}
	return nil
}

// pathPlaceholders returns the {name}s of a URL's path.
func pathPlaceholders(u string) []string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return enclosed(u, "{")
}

// env checks that every ${NAME} in the strings of v, at path, is set.
func (c *checker) env(v any, path []string) error {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := c.env(v[k], append(slices.Clone(path), k)); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range v {
			if err := c.env(x, append(slices.Clone(path), strconv.Itoa(i))); err != nil {
				return err
			}
		}
	case string:
		for _, name := range references(v) {
			if _, ok := c.lookup(name); !ok {
				return c.d.errorAt(path, false, "${%s} is not set in the environment", name)
			}
		}
	}
	return nil
}

// references returns the names of the ${NAME}s in s.
func references(s string) []string { return enclosed(s, "${") }

// enclosed returns what stands in s between each open and the next "}".
func enclosed(s, open string) []string {
	var out []string
	for {
		i := strings.Index(s, open)
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, s[i+len(open):i+j])
		s = s[i+j+1:]
	}
}

// expand replaces each ${NAME} in s with the value lookup gives it.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		name := s[i+2 : i+j]
		v, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("${%s} is not set in the environment", name)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

// Expand returns v with each ${NAME} replaced by the value of the
// environment variable NAME, as the environment the spec was read with
// has it.
func (s *Spec) Expand(v string) (string, error) {
	lookup := s.lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return expand(v, lookup)
}

// Variable is an environment variable a spec reads, written ${NAME}.
type Variable struct {
	Name string
	// Secret says it holds a credential: it fills an auth setting, or a
	// header or query parameter whose name says it is one.
	Secret bool
}

// Variables returns the environment variables the spec in data reads,
// in the order they first appear.
func Variables(data []byte) []Variable {
	var out []Variable
	seen := make(map[string]int)
	add := func(name string, secret bool) {
		if i, ok := seen[name]; ok {
			out[i].Secret = out[i].Secret || secret
			return
		}
		seen[name] = len(out)
		out = append(out, Variable{Name: name, Secret: secret || paginate.SecretName(name)})
	}
	for _, name := range references(string(data)) {
		add(name, false)
	}
	if s, err := Parse("spec", data, func(string) (string, bool) { return "x", true }); err == nil {
		for _, st := range s.Streams {
			r := st.Request
			if a := r.Auth; a != nil {
				for _, v := range []Secret{a.Bearer} {
					for _, n := range references(string(v)) {
						add(n, true)
					}
				}
				if a.Basic != nil {
					for _, n := range references(string(a.Basic.Password)) {
						add(n, true)
					}
				}
				if a.APIKey != nil {
					for _, n := range references(string(a.APIKey.Value)) {
						add(n, true)
					}
				}
				if o := a.OAuth2; o != nil {
					for _, n := range append(references(string(o.ClientSecret)), references(string(o.RefreshToken))...) {
						add(n, true)
					}
				}
			}
			for _, m := range []map[string]string{r.Header, r.Query} {
				for k, v := range m {
					if paginate.SecretName(k) {
						for _, n := range references(v) {
							add(n, true)
						}
					}
				}
			}
		}
	}
	return out
}
