package strategies

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// Checkpoint identity: each strategy describes, for paginate.Run, the
// settings that give its positions their meaning, so that a checkpoint
// saved with 50-record pages is not resumed with 100-record pages, nor one
// of /users with /orders. The parts are strings built in a fixed order, the
// same in every process. Secrets are never among them (checkpoints are
// stored in plain text): a credential-like query parameter or body field
// is named, its value replaced by REDACTED, so that rotating a key does
// not invalidate a checkpoint. Settings that do not move positions
// (client, retries, rate limits, timeouts, headers, auth) are left out.

// identity returns the parts every strategy shares: its kind, the
// endpoint, the method, the static query and body, the values it sends and
// where, the page size and the settings of the Window that select the
// records positions count. A configuration that does not compile names
// only its kind; the run then fails before its first request with the
// configuration error.
func identity[T any](kind, pos string, st *state[T], pt parts[T]) paginate.Identity {
	id := paginate.Identity{"paginator": kind}
	if st == nil {
		return id
	}
	pl, c := st.pl, st.c
	// The endpoint is its path, without the scheme and host: the same
	// API's positions mean the same whichever host serves it (a server
	// restarted on another port, a moved host, a proxy), which is also
	// why NextToken stores next URLs relative to the origin.
	u := url.URL{Path: c.base.Path, RawPath: c.base.RawPath}
	id["url"] = u.String()
	if pl.method != "" && pl.method != "GET" {
		id["method"] = pl.method
	}
	id["query"] = c.redactedStatic()
	if pl.body != nil {
		id["body"] = c.redactBody(pl.body)
	}
	if len(pl.path.staticValues()) > 0 {
		id["path"] = c.redactedValues(pl.path.staticValues())
	}
	var ps []string
	for r, p := range pl.params {
		if p.sent() {
			name := roleNames[r]
			if role(r) == rolePos {
				name = pos
			}
			ps = append(ps, name+"="+p.String())
		}
	}
	slices.Sort(ps)
	id["params"] = strings.Join(ps, ",")
	id["size"] = strconv.Itoa(pt.size)
	w := pt.win
	if w.SinceDefault != "" {
		id["since-default"] = w.SinceDefault
	}
	if w.Lookback > 0 {
		id["lookback"] = w.Lookback.String()
	}
	if w.NewestFirst != nil {
		id["newest-first"] = "true"
	}
	if w.BoundsOnFirstOnly {
		id["bounds"] = "first"
	}
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint and static query, the page size, the
// first page number and the parameters it sends.
func (p *PageNumber[T]) Identity() paginate.Identity {
	st, _ := p.state()
	id := identity("page-number", "page", st, p.parts())
	if st != nil {
		id["first"] = strconv.FormatInt(p.firstPage(), 10)
	}
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint and static query, the page size,
// the overlap and the parameters it sends.
func (o *Offset[T]) Identity() paginate.Identity {
	st, _ := o.state()
	id := identity("offset", "offset", st, o.parts())
	if st != nil && o.Overlap > 0 {
		id["overlap"] = strconv.Itoa(o.Overlap)
	}
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint and static query, the page size, the
// cursor parameters and whether the filter is inclusive.
func (c *Cursor[T]) Identity() paginate.Identity {
	st, _ := c.state()
	id := identity("cursor", "cursor", st, c.parts())
	if st == nil {
		return id
	}
	if c.Params != nil {
		id["params"] = strings.TrimPrefix(id["params"]+",cursor="+c.CursorParam.In.String()+":(Params)", ",")
	}
	id["inclusive"] = strconv.FormatBool(c.Inclusive)
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint, static query and body, the page
// size, where the next token comes from and where it goes.
func (n *NextToken[T]) Identity() paginate.Identity {
	st, _ := n.state()
	id := identity("next-token", "token", st, n.parts())
	if st == nil {
		return id
	}
	switch {
	case n.TokenPath != "":
		id["next"] = "body:" + n.TokenPath
	case n.TokenHeader != "":
		id["next"] = "header:" + n.TokenHeader
	case n.NextURLPath != "":
		id["next"] = "url:" + n.NextURLPath
	case n.LinkRel != "":
		id["next"] = "link:" + lowerASCII(n.LinkRel)
	default:
		id["next"] = "decode"
	}
	if n.FirstToken != "" {
		id["first-token"] = n.FirstToken
	}
	return id
}

// staticValues returns Request.PathValues, or nil without a template.
func (t *pathTemplate) staticValues() map[string]string {
	if t == nil {
		return nil
	}
	return t.static
}

// redactedValues returns the values as a sorted query, with those of
// secret names replaced by "REDACTED".
func (c *client) redactedValues(m map[string]string) string {
	q := make(url.Values, len(m))
	for k, v := range m {
		if c.names.is(k) {
			v = "REDACTED"
		}
		q.Set(k, v)
	}
	return q.Encode()
}

// redactedStatic returns the static query, sorted, with the values of
// secret parameters replaced by "REDACTED".
func (c *client) redactedStatic() string {
	q, err := url.ParseQuery(c.static)
	if err != nil {
		return "(unreadable)"
	}
	for k, vs := range q {
		if c.names.is(k) {
			for i := range vs {
				vs[i] = "REDACTED"
			}
		}
	}
	return q.Encode()
}

// redactBody returns a JSON body in a canonical form (objects' keys
// sorted, numbers as written) with the values of fields with secret
// names replaced by "REDACTED".
func (c *client) redactBody(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "(unreadable)"
	}
	b, err := json.Marshal(c.redactValue(v))
	if err != nil {
		return "(unreadable)"
	}
	return string(b)
}

func (c *client) redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if c.names.is(k) {
				x[k] = "REDACTED"
			} else {
				x[k] = c.redactValue(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = c.redactValue(e)
		}
	}
	return v
}
