package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/spec"
)

// candidate is one way to the next page that the first response
// suggests.
type candidate struct {
	style string // in words, such as "page numbers"
	found string // what suggests it, in words
	// rank orders the candidates; two of one rank that both work are
	// ambiguous, unless they are of one group (the names a token's
	// parameter may have).
	rank  int
	group string
	// second returns the request for the second page, or last when the
	// first page says it is the last.
	second func() (r request, last bool)
	// check, when set, checks the second page beyond its records.
	check func(second *response, n int) error
	// counted says the page sizes are fixed, so that the totals tell how
	// many records the second page holds.
	counted bool
	apply   func(*spec.Stream)
	// token is the first page's next token, for a token candidate.
	token string

	verified *result
}

// candidates lists the ways to the next page the first response
// suggests, most explicit first.
func (d *detector) candidates() []*candidate {
	s := &d.signals
	var out []*candidate
	if s.link != "" {
		out = append(out, d.nextURLCandidate("a Link header", `rel="next" in the Link header`, s.link, func(st *spec.Stream) {
			st.Paging.LinkRel = "next"
		}))
	}
	for _, l := range s.nextURLs {
		str := l.v.(string)
		out = append(out, d.nextURLCandidate("a next URL in the body", "the next page's URL at "+l.path, str, func(st *spec.Stream) {
			st.Paging.NextURLPath = l.path
		}))
	}
	for _, l := range s.tokens {
		out = append(out, d.tokenCandidates(l.path, "", text(l.v), paramNames(l.key))...)
	}
	if s.tokenHeader != "" {
		out = append(out, d.tokenCandidates("", s.tokenHeader, d.first.header.Get(s.tokenHeader), paramNames(s.tokenHeader))...)
	}
	if s.page != nil || s.urlPage != "" || s.nextPage != nil && len(s.tokens) == 0 {
		out = append(out, d.pageCandidate())
	}
	if s.offset != nil || s.urlOffset != "" {
		out = append(out, d.offsetCandidate())
	}
	if s.hasMore != nil && len(s.tokens) == 0 && len(s.nextURLs) == 0 {
		out = append(out, d.cursorCandidates()...)
	}
	if len(out) == 0 && (s.totalItems != nil || s.totalPages != nil || s.itemsHeader != "" || s.pagesHeader != "") {
		// Totals and no position: try the usual parameters.
		s.urlPage = "page"
		p := d.pageCandidate()
		p.rank = 4
		s.urlPage = ""
		s.urlOffset = "offset"
		o := d.offsetCandidate()
		o.rank = 4
		s.urlOffset = ""
		out = append(out, p, o)
	}
	return out
}

// nextURLCandidate is following a next URL: the Link header's or one in
// the body.
func (d *detector) nextURLCandidate(style, found, next string, set func(*spec.Stream)) *candidate {
	first := d.first.req
	ref, err := url.Parse(next)
	var target *url.URL
	if err == nil {
		target = first.url.ResolveReference(ref)
		if ref.IsAbs() {
			found += " (an absolute URL)"
		} else {
			found += " (a relative URL)"
		}
	}
	byPos := target != nil && positional(first.url, target)
	if byPos {
		found += ", counting by position"
	}
	return &candidate{
		style: style, found: found, rank: 1, group: found,
		second: func() (request, bool) {
			if target == nil {
				return request{method: first.method, url: first.url}, false
			}
			return request{method: first.method, url: target, body: first.body}, false
		},
		apply: func(st *spec.Stream) {
			st.Paging.Strategy = spec.NextToken
			set(st)
			st.Paging.ByPosition = byPos
			d.totals(st)
		},
	}
}

// positional reports whether a next URL counts records rather than
// continuing after a record: it moves a page number or an offset.
func positional(first, next *url.URL) bool {
	a, b := first.Query(), next.Query()
	for k, vs := range b {
		if len(vs) != 1 || (len(a[k]) == 1 && a[k][0] == vs[0]) {
			continue
		}
		if _, err := strconv.ParseInt(vs[0], 10, 64); err != nil {
			continue
		}
		if in(norm(k), "page", "p", "pagenumber", "pagenum", "pageno", "currentpage", "pageindex", "offset", "start", "skip", "from") {
			return true
		}
	}
	return false
}

// paramNames returns the names a token found under key may be sent back
// as, most likely first.
func paramNames(key string) []string {
	names := []string{key}
	add := func(n string) {
		if n != "" && !containsFold(names, n) {
			names = append(names, n)
		}
	}
	low := strings.ToLower(key)
	for _, p := range []string{"next_", "next-", "next"} {
		if strings.HasPrefix(low, p) && len(key) > len(p) {
			rest := key[len(p):]
			add(strings.ToLower(rest[:1]) + rest[1:])
		}
	}
	for _, n := range []string{"cursor", "page_token", "pageToken", "token", "after", "continuation"} {
		add(n)
	}
	return names
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// tokenCandidates are sending a token back under each of names: in the
// query of a GET, in the body of a request with one.
func (d *detector) tokenCandidates(path, header, token string, names []string) []*candidate {
	first := d.first.req
	inBody := first.body != nil
	var out []*candidate
	where := "at " + path
	if header != "" {
		where = "in the header " + header
	}
	for _, name := range names {
		param := spec.Param(name)
		sent := "the query parameter " + name
		if inBody {
			param = spec.Param("body:" + name)
			sent = "the body's field " + name
		}
		c := &candidate{
			style: "a next token", found: fmt.Sprintf("the next page's token %s, sent back as %s", where, sent),
			rank: 1, group: "token " + path + header, token: token,
			second: func() (request, bool) {
				r := request{method: first.method, url: first.url, body: first.body}
				if inBody {
					r.body = setBodyField(first.body, name, token)
					return r, false
				}
				u := *first.url
				q := u.Query()
				q.Set(name, token)
				u.RawQuery = q.Encode()
				r.url = &u
				return r, false
			},
			apply: func(st *spec.Stream) {
				st.Paging.Strategy = spec.NextToken
				st.Paging.TokenPath = path
				st.Paging.TokenHeader = header
				st.Paging.TokenParam = param
				d.totals(st)
			},
		}
		out = append(out, c)
	}
	return out
}

// setBodyField returns the JSON object body with name set to v.
func setBodyField(body []byte, name, v string) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || m == nil {
		m = make(map[string]any)
	}
	m[name] = v
	b, _ := json.Marshal(m)
	return b
}

// withParam returns the first request with the query parameter name set
// to v.
func (d *detector) withParam(name, v string) request {
	first := d.first.req
	u := *first.url
	q := u.Query()
	q.Set(name, v)
	u.RawQuery = q.Encode()
	return request{method: first.method, url: &u, body: first.body}
}

// pageCandidate is page numbers.
func (d *detector) pageCandidate() *candidate {
	s := &d.signals
	name, firstPage := "page", int64(1)
	found := "page numbers"
	switch {
	case s.urlPage != "":
		name = s.urlPage
		firstPage, _ = strconv.ParseInt(d.first.req.url.Query().Get(name), 10, 64)
		found += fmt.Sprintf(" (the URL's %s=%d)", name, firstPage)
	case s.page != nil:
		name = s.page.key
		firstPage, _ = number(s.page.v)
		found += fmt.Sprintf(" (%s: %d in the body)", s.page.path, firstPage)
	}
	if firstPage > 1 {
		firstPage = 1
	}
	last := s.totalPages != nil && d.intAt(s.totalPages) <= firstPage+boolInt(firstPage == 0) ||
		s.nextPage != nil && s.nextPage.v == nil
	next := firstPage + 1
	return &candidate{
		style: "page numbers", found: found, rank: 2, group: "page", counted: true,
		second: func() (request, bool) { return d.withParam(name, strconv.FormatInt(next, 10)), last },
		check: func(second *response, _ int) error {
			if s.page == nil {
				return nil
			}
			v, _ := at(second.doc, s.page.path)
			if got, ok := number(v); !ok || got != next {
				return fmt.Errorf("asked for %s=%d, the body says %s: %s", name, next, s.page.path, text(v))
			}
			return nil
		},
		apply: func(st *spec.Stream) {
			st.Paging.Strategy = spec.PageNumber
			if name != "page" {
				st.Paging.PageParam = spec.Param(name)
			}
			if firstPage == 0 {
				st.Paging.ZeroBased = true
			}
			if s.page != nil {
				st.Paging.PagePath = s.page.path
			}
			st.Request.URL = withoutParam(st.Request.URL, name)
			d.totals(st)
			if st.Response.TotalPagesPath == "" && st.Response.TotalItemsPath == "" && s.nextPage != nil {
				st.Response.HasMorePath = s.nextPage.path
				st.Response.HasMoreIf = "more_if_not_null"
			}
		},
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// offsetCandidate is offsets.
func (d *detector) offsetCandidate() *candidate {
	s := &d.signals
	name := "offset"
	found := "offsets"
	switch {
	case s.urlOffset != "":
		name = s.urlOffset
		found += fmt.Sprintf(" (the URL's %s=0)", name)
	case s.offset != nil:
		name = s.offset.key
		found += fmt.Sprintf(" (%s: %s in the body)", s.offset.path, text(s.offset.v))
	}
	n := int64(len(d.recs.items))
	last := n == 0 || s.totalItems != nil && d.intAt(s.totalItems) <= n
	return &candidate{
		style: "offsets", found: found, rank: 2, group: "offset", counted: true,
		second: func() (request, bool) { return d.withParam(name, strconv.FormatInt(n, 10)), last },
		check: func(second *response, _ int) error {
			if s.offset == nil {
				return nil
			}
			v, _ := at(second.doc, s.offset.path)
			if got, ok := number(v); !ok || got != n {
				return fmt.Errorf("asked for %s=%d, the body says %s: %s", name, n, s.offset.path, text(v))
			}
			return nil
		},
		apply: func(st *spec.Stream) {
			st.Paging.Strategy = spec.Offset
			if name != "offset" {
				st.Paging.OffsetParam = spec.Param(name)
			}
			st.Request.URL = withoutParam(st.Request.URL, name)
			d.totals(st)
		},
	}
}

// cursorCandidates are a has-more flag with a cursor: the last record's
// key sent as the next request's starting point, Stripe's starting_after.
func (d *detector) cursorCandidates() []*candidate {
	s := &d.signals
	key := d.key
	if key == "" {
		return nil
	}
	items := d.recs.items
	var lastKey string
	if len(items) > 0 {
		v, _ := items[len(items)-1].(*object).get(key)
		lastKey = text(v)
	}
	more, _ := s.hasMore.v.(bool)
	var out []*candidate
	for _, name := range []string{"starting_after", "after", "cursor", "since_id", "after_id", "from", "start_after"} {
		out = append(out, &candidate{
			style: "a cursor", rank: 3, group: "cursor",
			found: fmt.Sprintf("%s, with the last record's %s sent as %s", s.hasMore.path, key, name),
			second: func() (request, bool) {
				return d.withParam(name, lastKey), !more
			},
			apply: func(st *spec.Stream) {
				st.Paging.Strategy = spec.Cursor
				st.Paging.CursorParam = spec.Param(name)
				st.Paging.CursorField = key
				st.Response.HasMorePath = s.hasMore.path
				d.totals(st)
			},
		})
	}
	return out
}

// totals sets the totals and flags the first response holds.
func (d *detector) totals(st *spec.Stream) {
	s := &d.signals
	if s.totalPages != nil {
		st.Response.TotalPagesPath = s.totalPages.path
	}
	if s.totalItems != nil {
		st.Response.TotalItemsPath = s.totalItems.path
	}
	if s.itemsHeader != "" && st.Response.TotalItemsPath == "" {
		st.Response.TotalItemsHeader = s.itemsHeader
	}
	if s.pagesHeader != "" && st.Response.TotalPagesPath == "" {
		st.Response.TotalPagesHeader = s.pagesHeader
	}
	if s.hasMore != nil && st.Paging.Strategy != spec.PageNumber && st.Paging.Strategy != spec.Offset {
		st.Response.HasMorePath = s.hasMore.path
	}
	if s.done != nil && st.Response.HasMorePath == "" {
		st.Response.HasMorePath = s.done.path
		st.Response.HasMoreIf = "more_if_false"
	}
}

func (d *detector) intAt(l *leaf) int64 {
	n, _ := number(l.v)
	return n
}

// withoutParam returns the URL u without the query parameter name, which
// the strategy sets itself.
func withoutParam(u, name string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	if !q.Has(name) {
		return u
	}
	q.Del(name)
	p.RawQuery = q.Encode()
	return p.String()
}

// result is what the second page said of a candidate.
type result struct {
	ok         bool
	confidence Confidence
	detail     string
}

// verify fetches the second page as c says, and checks it: records at the
// same place, none of the first page's, as many as the totals say.
func (d *detector) verify(ctx context.Context, c *candidate) result {
	if c.verified != nil {
		return *c.verified
	}
	res := d.verifyOnce(ctx, c)
	c.verified = &res
	return res
}

func (d *detector) verifyOnce(ctx context.Context, c *candidate) result {
	req, last := c.second()
	if last {
		return result{ok: true, confidence: Medium, detail: "the first page says it is the last, so the way to the next could not be tried"}
	}
	second, err := d.fetch(ctx, req)
	if err != nil {
		var se *statusError
		if errors.As(err, &se) {
			return result{detail: fmt.Sprintf("%s answered %s", req, se.status)}
		}
		return result{detail: err.Error()}
	}
	v, ok := at(second.doc, d.recs.path)
	items, isArray := v.([]any)
	if !ok || !isArray || objectsOnly(items, d.recs.path) != nil {
		return result{detail: fmt.Sprintf("%s: the records are not where the first page had them", req)}
	}
	first := make(map[string]bool, len(d.recs.items))
	for _, it := range d.recs.items {
		first[keyOf(it, d.key)] = true
	}
	repeated := 0
	for _, it := range items {
		if first[keyOf(it, d.key)] {
			repeated++
		}
	}
	n1, n2 := len(d.recs.items), len(items)
	switch {
	case repeated > 0:
		return result{detail: fmt.Sprintf("%s: %d of its %d records were on the first page already", req, repeated, n2)}
	case n2 == 0:
		return result{ok: true, confidence: Medium, detail: fmt.Sprintf("%s answered an empty page: the first page may hold every record, so the way to the next is not proven", req)}
	}
	if c.check != nil {
		if err := c.check(second, n2); err != nil {
			return result{detail: fmt.Sprintf("%s: %v", req, err)}
		}
	}
	if c.counted {
		if want, ok := d.expected(n1); ok && n2 != want {
			return result{detail: fmt.Sprintf("%s: %d records, where the totals say %d", req, n2, want)}
		}
	}
	detail := fmt.Sprintf("verified: the second page (%s) held %d records, none of the first page's", req, n2)
	if c.counted {
		if _, ok := d.expected(n1); ok {
			detail += ", as many as the totals say"
		}
	}
	return result{ok: true, confidence: High, detail: detail}
}

// expected returns how many records a second page of fixed size holds,
// when the first response's total tells.
func (d *detector) expected(n1 int) (int, bool) {
	s := &d.signals
	var total int64 = -1
	switch {
	case s.totalItems != nil:
		total = d.intAt(s.totalItems)
	case s.itemsHeader != "":
		total, _ = strconv.ParseInt(d.first.header.Get(s.itemsHeader), 10, 64)
	}
	if total < 0 {
		return 0, false
	}
	return int(min(int64(n1), max(total-int64(n1), 0))), true
}
