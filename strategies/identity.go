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

// sent is one value a strategy sends: its role (page, size, since,
// token...), where it goes, and under what name.
type sent struct {
	role, where, name string
}

// identity returns the parts every strategy shares: its kind, the
// endpoint, the method, the static query and the values it sends. A
// configuration that does not compile names only its kind; the run then
// fails at its first fetch with the configuration error.
func (c *client) identity(kind string, params ...sent) paginate.Identity {
	id := paginate.Identity{"paginator": kind}
	if c == nil {
		return id
	}
	// The endpoint is its path, without the scheme and host: the same
	// API's positions mean the same whichever host serves it (a server
	// restarted on another port, a moved host, a proxy), which is also
	// why NextToken stores next URLs relative to the origin.
	u := url.URL{Path: c.base.Path, RawPath: c.base.RawPath}
	id["url"] = u.String()
	if c.method != "" {
		id["method"] = strings.ToUpper(c.method)
	}
	id["query"] = c.redactedStatic()
	var ps []string
	for _, p := range params {
		if p.name != "" {
			ps = append(ps, p.role+"="+p.where+":"+p.name)
		}
	}
	slices.Sort(ps)
	id["params"] = strings.Join(ps, ",")
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint and static query, the page size, the
// first page number and the parameters it sends.
func (p *PageNumber[T]) Identity() paginate.Identity {
	st, _ := p.state()
	id := st.client().identity("page-number",
		sent{"page", "query", p.pageParam()}, sent{"size", "query", p.sizeParam()}, sent{"since", "query", p.SinceParam})
	id["size"] = strconv.Itoa(p.Size)
	id["first"] = strconv.FormatInt(p.firstPage(), 10)
	sinceDefault(id, p.SinceParam, p.SinceDefault)
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint and static query, the page size,
// the overlap and the parameters it sends.
func (o *Offset[T]) Identity() paginate.Identity {
	st, _ := o.state()
	id := st.client().identity("offset",
		sent{"offset", "query", o.offsetParam()}, sent{"size", "query", o.limitParam()}, sent{"since", "query", o.SinceParam})
	id["size"] = strconv.Itoa(o.Limit)
	if o.Overlap > 0 {
		id["overlap"] = strconv.Itoa(o.Overlap)
	}
	sinceDefault(id, o.SinceParam, o.SinceDefault)
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint and static query, the page size, the
// cursor parameters and whether the filter is inclusive.
func (c *Cursor[T]) Identity() paginate.Identity {
	st, _ := c.state()
	cursor := sent{"cursor", "query", c.Param}
	if c.Params != nil {
		cursor = sent{"cursor", "query", "(Params)"}
	}
	size := sent{"size", "query", c.sizeParam()}
	if c.FixedSize {
		size.name = ""
	}
	id := st.client().identity("cursor", cursor, size, sent{"since", "query", c.SinceParam})
	id["size"] = strconv.Itoa(c.Size)
	id["inclusive"] = strconv.FormatBool(c.Inclusive)
	sinceDefault(id, c.SinceParam, c.SinceDefault)
	return id
}

// Identity describes the paginator for checkpoints (see
// [paginate.Identifier]): the endpoint, static query and body, the page
// size, where the next token comes from and where it goes.
func (n *NextToken[T]) Identity() paginate.Identity {
	st, _ := n.state()
	token := sent{"token", "query", n.TokenParam}
	switch {
	case n.TokenRequestHeader != "":
		token = sent{"token", "header", n.TokenRequestHeader}
	case n.TokenBodyField != "":
		token = sent{"token", "body", n.TokenBodyField}
	}
	id := st.client().identity("next-token", token, sent{"size", "query", n.sizeParam()}, sent{"since", "query", n.SinceParam})
	if st != nil && n.extra.method != "" {
		id["method"] = strings.ToUpper(n.extra.method)
	}
	id["size"] = strconv.Itoa(n.Size)
	switch {
	case n.TokenPath != "":
		id["next"] = "body:" + n.TokenPath
	case n.TokenHeader != "":
		id["next"] = "header:" + n.TokenHeader
	case n.NextURLPath != "":
		id["next"] = "url:" + n.NextURLPath
	case n.LinkHeader:
		id["next"] = "link"
	default:
		id["next"] = "decode"
	}
	if n.FirstToken != "" {
		id["first"] = n.FirstToken
	}
	if st != nil && n.extra.body != nil {
		id["body"] = st.c.redactBody(n.extra.body)
	}
	sinceDefault(id, n.SinceParam, n.SinceDefault)
	return id
}

// sinceDefault adds the incremental bound a first sync sends, which
// selects the records that page positions count.
func sinceDefault(id paginate.Identity, param, def string) {
	if param != "" && def != "" {
		id["since-default"] = def
	}
}

// client returns the compiled client, or nil for a configuration that did
// not compile.
func (s *state[T]) client() *client {
	if s == nil {
		return nil
	}
	return s.c
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
