package spec

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/strategies"
)

// Record is the record type of every stream of a spec: a JSON object,
// whose fields the stream's table maps to columns.
type Record = schema.Record

// compiled is one stream of a spec made into the library's values: all
// but the paginator of a partition, which it builds for each.
type compiled struct {
	st       *Stream
	request  strategies.Request
	response strategies.Shape[Record]
	window   strategies.Window[Record]
	limits   strategies.Limits
	size     strategies.Param
	params   map[string]strategies.Param // the strategy's own, by spec name
	watch    *fieldWatch                 // a fixed table's fields, or nil
}

// compile turns the stream st of s into the library's values. client,
// when not nil, sends the requests (a connector's Limiter client).
func (s *Spec) compile(st *Stream, client strategies.Doer) (*compiled, error) {
	c := &compiled{st: st, params: make(map[string]strategies.Param)}
	fail := func(field string, err error) error {
		return fmt.Errorf("stream %q: %s: %w", st.Name, field, err)
	}
	var err error
	if c.request, err = s.request(&st.Request); err != nil {
		return nil, fail("request", err)
	}
	c.request.Client = client
	c.response = strategies.Shape[Record]{
		ItemsPath: st.Response.ItemsPath, TotalItemsPath: st.Response.TotalItemsPath, TotalPagesPath: st.Response.TotalPagesPath,
		TotalItemsHeader: st.Response.TotalItemsHeader, TotalPagesHeader: st.Response.TotalPagesHeader,
		HasMorePath: st.Response.HasMorePath, EmptyPageEnds: st.Response.EmptyPageEnds, ShortPageEnds: st.Response.ShortPageEnds,
	}
	switch st.Response.HasMoreIf {
	case "more_if_false":
		c.response.HasMoreIf = strategies.MoreIfFalse
	case "more_if_not_null":
		c.response.HasMoreIf = strategies.MoreIfNotNull
	}
	w := &st.Window
	c.window = strategies.Window[Record]{
		SinceDefault: w.SinceDefault, BoundsOnFirstOnly: w.BoundsOnFirstOnly,
		Lookback: time.Duration(w.Lookback), TimeLayout: w.TimeLayout,
	}
	if c.window.SinceParam, err = parseParam(w.SinceParam); err != nil {
		return nil, fail("window.since_param", err)
	}
	if c.window.UntilParam, err = parseParam(w.UntilParam); err != nil {
		return nil, fail("window.until_param", err)
	}
	if w.NewestFirst {
		c.window.NewestFirst = s.mark(st)
	}
	c.limits = strategies.Limits{
		MaxBody: st.Limits.MaxBody, MaxItems: st.Limits.MaxItems,
		Timeouts: strategies.Timeouts{
			Connect: time.Duration(st.Limits.Timeouts.Connect),
			Header:  time.Duration(st.Limits.Timeouts.Header),
			Idle:    time.Duration(st.Limits.Timeouts.Idle),
		},
	}
	if r := st.Limits.Rate; r > 0 {
		c.limits.Rate = rate.NewLimiter(rate.Limit(r), 1)
	}
	p := &st.Paging
	for name, v := range map[string]Param{"size_param": p.SizeParam, "page_param": p.PageParam, "offset_param": p.OffsetParam,
		"cursor_param": p.CursorParam, "token_param": p.TokenParam} {
		if c.params[name], err = parseParam(v); err != nil {
			return nil, fail("paging."+name, err)
		}
	}
	c.size = c.params["size_param"]
	return c, nil
}

// mark returns the function that reads a record's incremental mark: the
// text of the high_water field, or, with a time layout, the field's time
// in UTC in that layout, so that marks sort as the times they stand for.
func (s *Spec) mark(st *Stream) func(Record) string {
	field, layout := st.Options.HighWater, st.Window.TimeLayout
	if field == "" {
		return nil
	}
	if layout == "" {
		return func(r Record) string { return r.Text(field) }
	}
	return func(r Record) string {
		v := r.Text(field)
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			if t, err = time.Parse(layout, v); err != nil {
				return v
			}
		}
		return t.UTC().Format(layout)
	}
}

// request builds a strategies.Request from r, its ${NAME}s expanded.
func (s *Spec) request(r *Request) (strategies.Request, error) {
	out := strategies.Request{Method: r.Method, Secrets: r.Secrets, AllowHosts: r.AllowHosts}
	var err error
	if out.URL, err = s.Expand(r.URL); err != nil {
		return out, err
	}
	if len(r.PathValues) > 0 {
		out.PathValues = make(map[string]string, len(r.PathValues))
		for k, v := range r.PathValues {
			if out.PathValues[k], err = s.Expand(v); err != nil {
				return out, err
			}
		}
	}
	if len(r.Query) > 0 {
		out.Query = make(url.Values, len(r.Query))
		for k, v := range r.Query {
			x, err := s.Expand(v)
			if err != nil {
				return out, err
			}
			out.Query.Set(k, x)
		}
	}
	if len(r.Header) > 0 {
		out.Header = make(http.Header, len(r.Header))
		for k, v := range r.Header {
			x, err := s.Expand(v)
			if err != nil {
				return out, err
			}
			out.Header.Set(k, x)
		}
	}
	if len(r.Body) > 0 {
		b, err := s.Expand(string(r.Body))
		if err != nil {
			return out, err
		}
		out.Body = json.RawMessage(b)
	}
	if r.Auth != nil {
		if out.Auth, err = s.auth(r.Auth); err != nil {
			return out, err
		}
	}
	return out, nil
}

// auth builds the Auth of a.
func (s *Spec) auth(a *Auth) (strategies.Auth, error) {
	secret := func(v Secret) (string, error) { return s.Expand(string(v)) }
	switch {
	case a.Bearer != "":
		tok, err := secret(a.Bearer)
		return strategies.Bearer(tok), err
	case a.Basic != nil:
		pw, err := secret(a.Basic.Password)
		if err != nil {
			return nil, err
		}
		user, err := s.Expand(a.Basic.Username)
		return strategies.Basic(user, pw), err
	case a.APIKey != nil:
		key, err := secret(a.APIKey.Value)
		if a.APIKey.Header != "" {
			return strategies.APIKeyHeader(a.APIKey.Header, key), err
		}
		return strategies.APIKeyQuery(a.APIKey.Query, key), err
	case a.OAuth2 != nil:
		return s.oauth2(a.OAuth2)
	}
	return nil, nil
}

func (s *Spec) oauth2(o *OAuth2) (strategies.Auth, error) {
	tokenURL, err := s.Expand(o.TokenURL)
	if err != nil {
		return nil, err
	}
	id, err := s.Expand(o.ClientID)
	if err != nil {
		return nil, err
	}
	var clientSecret, refresh string
	if o.ClientSecret != "" {
		if clientSecret, err = s.Expand(string(o.ClientSecret)); err != nil {
			return nil, err
		}
	}
	if o.RefreshToken != "" {
		if refresh, err = s.Expand(string(o.RefreshToken)); err != nil {
			return nil, err
		}
	}
	style := oauth2.AuthStyleAutoDetect
	switch o.AuthStyle {
	case "header":
		style = oauth2.AuthStyleInHeader
	case "params":
		style = oauth2.AuthStyleInParams
	}
	if refresh != "" {
		cfg := &oauth2.Config{ClientID: id, ClientSecret: clientSecret, Scopes: o.Scopes,
			Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: style}}
		return strategies.RefreshToken(cfg, &oauth2.Token{RefreshToken: refresh}), nil
	}
	return strategies.ClientCredentials(&clientcredentials.Config{ClientID: id, ClientSecret: clientSecret,
		TokenURL: tokenURL, Scopes: o.Scopes, AuthStyle: style}), nil
}

// paginator returns a paginator of the stream, its path values completed
// by pathValues (a child partition's, from its parent record).
func (c *compiled) paginator(pathValues map[string]string) (paginate.Paginator[Record], error) {
	req := c.request
	if len(pathValues) > 0 {
		req.PathValues = maps.Clone(req.PathValues)
		if req.PathValues == nil {
			req.PathValues = make(map[string]string, len(pathValues))
		}
		maps.Copy(req.PathValues, pathValues)
	}
	p := &c.st.Paging
	switch p.Strategy {
	case PageNumber:
		return &strategies.PageNumber[Record]{Request: req, Response: c.response, Window: c.window, Limits: c.limits,
			Size: p.Size, SizeParam: c.size, PageParam: c.params["page_param"], FirstPage: p.FirstPage,
			ZeroBased: p.ZeroBased, OmitFirstPage: p.OmitFirstPage, PagePath: p.PagePath, MaxPage: p.MaxPage}, nil
	case Offset:
		o := &strategies.Offset[Record]{Request: req, Response: c.response, Window: c.window, Limits: c.limits,
			Size: p.Size, SizeParam: c.size, OffsetParam: c.params["offset_param"], MaxOffset: p.MaxOffset, Overlap: p.Overlap}
		if p.Overlap > 0 {
			key, mark := c.key(), c.st.Options.HighWater
			o.OverlapKey = func(r Record) string { return key(r) + "\x00" + r.Text(mark) }
		}
		return o, nil
	case Cursor:
		cur := &strategies.Cursor[Record]{Request: req, Response: c.response, Window: c.window, Limits: c.limits,
			Size: p.Size, SizeParam: c.size, CursorParam: c.params["cursor_param"], Inclusive: p.Inclusive}
		if field := p.CursorField; field != "" {
			cur.Value = func(r Record) string { return r.Text(field) }
		}
		if len(p.CursorParams) > 0 {
			params := maps.Clone(p.CursorParams)
			cur.Params = func(last Record) url.Values {
				v := make(url.Values, len(params))
				for name, field := range params {
					if t := last.Text(field); t != "" {
						v.Set(name, t)
					}
				}
				return v
			}
		}
		if p.Inclusive {
			cur.Key = c.key()
		}
		return cur, nil
	case NextToken:
		return &strategies.NextToken[Record]{Request: req, Response: c.response, Window: c.window, Limits: c.limits,
			Size: p.Size, SizeParam: c.size, TokenPath: p.TokenPath, TokenHeader: p.TokenHeader, NextURLPath: p.NextURLPath,
			LinkRel: p.LinkRel, TokenParam: c.params["token_param"], FirstToken: p.FirstToken, ByPosition: p.ByPosition}, nil
	}
	return nil, fmt.Errorf("stream %q: unknown strategy %q", c.st.Name, p.Strategy)
}

// key returns the function that gives a record's primary key as text.
func (c *compiled) key() func(Record) string {
	fields := c.st.Table.PrimaryKey
	if len(fields) == 1 {
		f := fields[0]
		return func(r Record) string { return r.Text(f) }
	}
	return func(r Record) string {
		parts := make([]string, len(fields))
		for i, f := range fields {
			parts[i] = r.Text(f)
		}
		return strings.Join(parts, "\x00")
	}
}

// options returns the run options the spec gives the stream.
func (s *Spec) options(st *Stream) paginate.Options[Record] {
	return paginate.Options[Record]{
		Stream:      st.Name,
		HighWater:   s.mark(st),
		Concurrency: st.Options.Concurrency,
		Checks: paginate.Checks[Record]{
			TrackKeys:        st.Options.Checks.TrackKeys,
			RepeatedPageEnds: st.Options.Checks.RepeatedPageEnds,
		},
		Limits: paginate.Limits{
			MaxPages: st.Options.Limits.MaxPages,
			MaxItems: st.Options.Limits.MaxItems,
		},
		Retry: paginate.Retry{
			MaxAttempts:   st.Options.Retry.MaxAttempts,
			MaxElapsed:    time.Duration(st.Options.Retry.MaxElapsed),
			MaxRetryAfter: time.Duration(st.Options.Retry.MaxRetryAfter),
		},
	}
}

// table returns the table the stream's records fill, as declared.
func (st *Stream) table() (schema.Table, error) {
	t := schema.Table{Name: st.Table.Name, PrimaryKey: st.Table.PrimaryKey}
	if t.Name == "" {
		t.Name = st.Name
	}
	for _, name := range sortedKeys(st.Table.Columns) {
		typ, err := schema.ParseType(string(st.Table.Columns[name]))
		if err != nil {
			return t, fmt.Errorf("stream %q: table.columns.%s: %w", st.Name, name, err)
		}
		t.Columns = append(t.Columns, schema.Column{Name: name, Type: typ})
	}
	return t, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
