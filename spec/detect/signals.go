package detect

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// signals are what a first page says about the pages after it.
type signals struct {
	link        string // the Link header's rel="next", as written
	nextURLs    []leaf // next URLs in the body
	tokens      []leaf // next tokens in the body
	tokenHeader string // a response header with a next token
	page        *leaf  // the page number served
	offset      *leaf  // the offset served
	size        *leaf  // the page size served
	nextPage    *leaf  // a next page's number (json-server 1.x), null on the last
	totalPages  *leaf
	totalItems  *leaf
	hasMore     *leaf // true while more follow
	done        *leaf // true on the last page
	itemsHeader string
	pagesHeader string
	urlPage     string // the first request's page parameter, when it has one
	urlOffset   string // the first request's offset parameter, when it has one
}

// norm returns a name without case, underscores or dashes, to compare
// the names APIs give one thing.
func norm(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)
}

func in(s string, names ...string) bool {
	for _, n := range names {
		if s == n {
			return true
		}
	}
	return false
}

// readSignals reads the signals of the first response r, whose records
// are at itemsPath and number n.
func readSignals(r *response, itemsPath string, n int) signals {
	var s signals
	s.link = linkRel(r.header.Values("Link"), "next")
	for _, h := range []string{"X-Total-Count", "X-Total", "Total-Count", "X-Total-Items", "X-Total-Results"} {
		if _, err := strconv.ParseInt(r.header.Get(h), 10, 64); err == nil {
			s.itemsHeader = h
			break
		}
	}
	for _, h := range []string{"X-Total-Pages", "X-Page-Count", "X-Pages"} {
		if _, err := strconv.ParseInt(r.header.Get(h), 10, 64); err == nil {
			s.pagesHeader = h
			break
		}
	}
	for _, h := range []string{"X-Next-Token", "X-Next-Cursor", "Next-Page-Token", "X-Next-Page-Token", "X-Continuation-Token", "X-Cursor"} {
		if r.header.Get(h) != "" {
			s.tokenHeader = h
			break
		}
	}
	for k, vs := range r.req.url.Query() {
		if len(vs) != 1 {
			continue
		}
		nk := norm(k)
		switch {
		case in(nk, "page", "p", "pagenumber", "pagenum", "pageno", "currentpage", "pageindex") && (vs[0] == "0" || vs[0] == "1"):
			s.urlPage = k
		case in(nk, "offset", "start", "skip", "from") && vs[0] == "0":
			s.urlOffset = k
		}
	}
	for _, l := range leaves(r.doc, "", itemsPath, 4, nil) {
		l := l
		nk, np := norm(l.key), norm(l.path)
		i, isInt := number(l.v)
		str, isStr := l.v.(string)
		_, isBool := l.v.(bool)
		switch {
		case isStr && str != "" && looksLikeURL(str) && (strings.Contains(np, "next") || nk == "more"):
			s.nextURLs = append(s.nextURLs, l)
		case isStr && str != "" && !looksLikeURL(str) && tokenName(np, nk):
			s.tokens = append(s.tokens, l)
		case isInt && in(nk, "page", "currentpage", "pagenumber", "pagenum", "pageno", "pageindex") && s.page == nil:
			s.page = &l
		case isInt && in(nk, "offset", "skip", "start", "from") && s.offset == nil:
			s.offset = &l
		case isInt && in(nk, "pagesize", "perpage", "limit", "size", "pagelimit") && s.size == nil:
			s.size = &l
		case (isInt && i > 1 || l.v == nil) && in(nk, "next", "nextpage", "nextpagenumber") && s.nextPage == nil:
			s.nextPage = &l
		case isInt && in(nk, "totalpages", "pages", "pagecount", "lastpage", "numpages", "totalpage", "last") && s.totalPages == nil:
			s.totalPages = &l
		case isInt && int(i) >= n && in(nk, "total", "totalitems", "totalcount", "totalresults", "totalrecords", "count", "items",
			"totalsize", "totalelements", "totalhits", "found") && s.totalItems == nil:
			s.totalItems = &l
		case isBool && in(nk, "hasmore", "hasnext", "more", "hasnextpage", "hasmoreitems", "moreavailable", "hasmoreresults") && s.hasMore == nil:
			s.hasMore = &l
		case isBool && in(nk, "done", "islast", "lastpage", "complete", "finished") && s.done == nil:
			s.done = &l
		}
	}
	return s
}

// tokenName reports whether a field of a response, by its normalised
// path and key, is likely the next page's token.
func tokenName(path, key string) bool {
	if in(key, "after", "nextcursor", "nexttoken", "nextpagetoken", "cursor", "continuation", "continuationtoken",
		"scrollparam", "scrollid", "next", "nextkey", "startingafter", "pagetoken", "nextpage", "endcursor", "bookmark",
		"nextmarker", "marker", "lastevaluatedkey") {
		return true
	}
	return strings.Contains(path, "next") && (strings.Contains(key, "cursor") || strings.Contains(key, "token") || key == "after")
}

// looksLikeURL reports whether s is a URL or a reference to one.
func looksLikeURL(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "?") {
		return !strings.ContainsAny(s, " \t")
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// linkRel returns the target of the link with relation rel in the Link
// header values (RFC 8288), or "".
func linkRel(values []string, rel string) string {
	for _, v := range values {
		for _, part := range splitLinks(v) {
			part = strings.TrimSpace(part)
			if !strings.HasPrefix(part, "<") {
				continue
			}
			end := strings.IndexByte(part, '>')
			if end < 0 {
				continue
			}
			target := part[1:end]
			for _, p := range strings.Split(part[end+1:], ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
					continue
				}
				for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
					if strings.EqualFold(r, rel) {
						return target
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header at the commas between links, not
// those inside a URL.
func splitLinks(v string) []string {
	var out []string
	depth, start := 0, 0
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '<' && !quoted:
			depth++
		case c == '>' && !quoted:
			depth--
		case c == '"':
			quoted = !quoted
		case c == ',' && depth == 0 && !quoted:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// secretName reports whether a parameter or header's name says it holds
// a credential.
func secretName(name string) bool { return paginate.SecretName(name) }

// header returns a copy of h without the headers that hold credentials,
// and those it left out.
func splitHeader(h http.Header) (plain map[string]string, secret []string) {
	for k, vs := range h {
		if len(vs) == 0 {
			continue
		}
		if secretName(k) {
			secret = append(secret, k)
			continue
		}
		if plain == nil {
			plain = make(map[string]string)
		}
		plain[k] = vs[0]
	}
	return plain, secret
}
