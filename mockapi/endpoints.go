package mockapi

import (
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// handler appends an endpoint's 200 body to b, or returns a badRequest.
// It may set response headers, but only once the request is known good.
type handler func(s *Server, w http.ResponseWriter, r *http.Request, b []byte) ([]byte, error)

// The paths the Server serves, as in the package documentation.
const (
	PathPageNumber    = "/pagination/page_number"
	PathOffset        = "/pagination/offset"
	PathNextPageURL   = "/pagination/next_page_url"
	PathKeyset        = "/pagination/keyset"
	PathNextToken     = "/pagination/next_token"
	PathLinkHeader    = "/pagination/link_header"
	PathStartingAfter = "/pagination/starting_after"
)

var routes = map[string]handler{
	PathPageNumber:    pageNumber,
	PathOffset:        offset,
	PathNextPageURL:   nextPageURL,
	PathKeyset:        keyset,
	PathNextToken:     nextToken,
	PathLinkHeader:    linkHeader,
	PathStartingAfter: startingAfter,
	PathJSONServer:    jsonServer,
	PathJSONServerV1:  jsonServerV1,
	PathLinkRelative:  linkRelative,
	PathIDs:           idList,
	PathNewestFirst:   newestFirst,
	PathQueryLocator:  query,
}

// keysetPageSize is the keyset endpoint's fixed page size.
const keysetPageSize = 50

// pageSize returns the page size served for a request that asked for n,
// counting the pages that PageSizeCap makes smaller.
func (s *Server) pageSize(n int) int {
	size := s.cfg.capPage(n)
	if size < n {
		s.stats.capped.Add(1)
	}
	return size
}

// appendPage appends, comma-separated, up to n records from position off
// of v, or of v reversed when desc. It returns how many it appended and the
// generation number of the last.
func (d *dataset) appendPage(b []byte, v []int32, desc bool, off, n int) ([]byte, int, int32) {
	if off >= len(v) {
		return b, 0, -1
	}
	end := min(len(v), off+n)
	last := int32(-1)
	for k := off; k < end; k++ {
		i := v[k]
		if desc {
			i = v[len(v)-1-k]
		}
		if k > off {
			b = append(b, ',')
		}
		b = d.appendJSON(b, i)
		last = i
	}
	return b, end - off, last
}

// pageOffset returns the offset of page (1-based) of the given size, or
// total for a page past the end, without overflowing.
func pageOffset(page, size, total int) int {
	if page-1 > total/size {
		return total
	}
	return min((page-1)*size, total)
}

// totalPages returns how many pages of size hold total records.
func totalPages(total, size int) int {
	return (total + size - 1) / size
}

// listing is one request for a run of the dataset by page or by offset:
// its parameters, the checked query, the page size served and the records
// it selects, in order.
type listing struct {
	p    params
	q    listQuery
	size int
	v    []int32
}

// withListing parses and checks r's listing parameters (names, with the
// page size in sizeName and the page or offset in startName), then calls f
// with the selected records under the dataset's read lock. f appends the
// response to b and returns it.
func (s *Server) withListing(r *http.Request, b []byte, sizeName, startName string, names []string, f func(l listing) ([]byte, error)) ([]byte, error) {
	p, err := parseParams(r.URL, names...)
	if err != nil {
		return b, err
	}
	q, err := p.list(sizeName, startName, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	size := s.pageSize(q.size)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return f(listing{p: p, q: q, size: size, v: s.data.ordered(q.byCreated, q.since)})
}

var listParams = []string{"order_by", "order_type", "per_page", "page", "updated_since"}

func pageNumber(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	return s.withListing(r, b, "per_page", "page", listParams, func(l listing) ([]byte, error) {
		q, size, v := l.q, l.size, l.v
		b = append(b, `{"data":[`...)
		b, _, _ = s.data.appendPage(b, v, q.desc, s.pageStart(q.start, size, len(v)), size)
		b = append(b, `],"page":`...)
		b = strconv.AppendInt(b, int64(q.start), 10)
		b = append(b, `,"page_size":`...)
		b = strconv.AppendInt(b, int64(size), 10)
		if !s.cfg.NoTotals {
			b = append(b, `,"total_pages":`...)
			b = strconv.AppendInt(b, int64(totalPages(len(v), size)), 10)
			b = append(b, `,"total_items":`...)
			b = strconv.AppendInt(b, int64(len(v)), 10)
		}
		return append(b, "}\n"...), nil
	})
}

func offset(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	return s.withListing(r, b, "limit", "offset", []string{"order_by", "order_type", "limit", "offset", "updated_since"}, func(l listing) ([]byte, error) {
		q, size, v := l.q, l.size, l.v
		b = append(b, `{"data":[`...)
		b, _, _ = s.data.appendPage(b, v, q.desc, s.start(q.start, size, len(v)), size)
		b = append(b, `],"offset":`...)
		b = strconv.AppendInt(b, int64(q.start), 10)
		b = append(b, `,"limit":`...)
		b = strconv.AppendInt(b, int64(size), 10)
		if !s.cfg.NoTotals {
			b = append(b, `,"total":`...)
			b = strconv.AppendInt(b, int64(len(v)), 10)
		}
		return append(b, "}\n"...), nil
	})
}

// pageURL returns the absolute URL, on the request's own host, of page of
// the listing that r asked for, with size records a page.
func pageURL(r *http.Request, q listQuery, sinceRaw string, size, page int) string {
	v := make(url.Values, 5)
	v.Set("order_by", "updatedAt")
	if q.byCreated {
		v.Set("order_by", "createdAt")
	}
	v.Set("order_type", "asc")
	if q.desc {
		v.Set("order_type", "desc")
	}
	v.Set("per_page", strconv.Itoa(size))
	v.Set("page", strconv.Itoa(page))
	if q.sinceSet {
		v.Set("updated_since", sinceRaw)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.Path + "?" + v.Encode()
}

func nextPageURL(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	return s.withListing(r, b, "per_page", "page", listParams, func(l listing) ([]byte, error) {
		p, q, size, v := l.p, l.q, l.size, l.v
		b = append(b, `{"data":[`...)
		b, _, _ = s.data.appendPage(b, v, q.desc, s.pageStart(q.start, size, len(v)), size)
		b = append(b, ']')
		if !s.cfg.NoTotals {
			b = append(b, `,"total_items":`...)
			b = strconv.AppendInt(b, int64(len(v)), 10)
		}
		b = append(b, `,"page":`...)
		b = strconv.AppendInt(b, int64(q.start), 10)
		b = append(b, `,"per_page":`...)
		b = strconv.AppendInt(b, int64(size), 10)
		b = append(b, `,"next_page_url":`...)
		if q.start < totalPages(len(v), size) {
			b = appendString(b, pageURL(r, q, p.q.Get("updated_since"), size, q.start+1))
		} else {
			b = append(b, "null"...)
		}
		return append(b, "}\n"...), nil
	})
}

func linkHeader(s *Server, w http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	return s.withListing(r, b, "per_page", "page", listParams, func(l listing) ([]byte, error) {
		p, q, size, v := l.p, l.q, l.size, l.v
		pages := totalPages(len(v), size)
		since := p.q.Get("updated_since")
		var links []string
		link := func(page int, rel string) {
			links = append(links, "<"+pageURL(r, q, since, size, page)+`>; rel="`+rel+`"`)
		}
		if q.start < pages {
			link(q.start+1, "next")
		}
		if !s.cfg.NoTotals {
			link(max(pages, 1), "last")
		}
		link(1, "first")
		if q.start > 1 {
			link(min(q.start-1, max(pages, 1)), "prev")
		}
		h := w.Header()
		h.Set("Link", strings.Join(links, ", "))
		if !s.cfg.NoTotals {
			h.Set("X-Total-Count", strconv.Itoa(len(v)))
		}
		b = append(b, '[')
		b, _, _ = s.data.appendPage(b, v, q.desc, s.pageStart(q.start, size, len(v)), size)
		return append(b, "]\n"...), nil
	})
}

func keyset(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "scroll_param", "updated_since")
	if err != nil {
		return b, err
	}
	if p.has("scroll_param") && p.has("updated_since") {
		return b, badRequest("Use either scroll_param or updated_since, not both")
	}
	var after int64
	if p.has("scroll_param") {
		raw, err := base64.StdEncoding.DecodeString(p.q.Get("scroll_param"))
		t, ok := parseTime(string(raw))
		if err != nil || !ok {
			return b, badRequest("Invalid scroll_param")
		}
		after = t
	}
	since, err := p.since()
	if err != nil {
		return b, err
	}
	size := s.pageSize(keysetPageSize)
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.data
	lo := d.updatedFrom(since)
	if p.has("scroll_param") {
		lo = d.updatedAfter(after)
	}
	v := d.byUpdated[lo:]
	b = append(b, `{"data":[`...)
	b, n, last := d.appendPage(b, v, false, 0, size)
	b = append(b, `],"scroll_param":`...)
	if n < len(v) {
		var ts [20]byte
		b = appendString(b, base64.StdEncoding.EncodeToString(appendTime(ts[:0], d.recs[last].updated)))
	} else {
		b = append(b, "null"...)
	}
	return append(b, "}\n"...), nil
}

// nextTokenLen is the length of a decoded next_token: the big-endian
// updatedAt and the id of the last record served.
const nextTokenLen = 8 + 16

func nextToken(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "limit", "next_token", "updated_since")
	if err != nil {
		return b, err
	}
	limit, err := p.int("limit", 10, 1, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	since, err := p.since()
	if err != nil {
		return b, err
	}
	var after struct {
		set bool
		t   int64
		id  [16]byte
	}
	if p.has("next_token") {
		raw, err := base64.RawURLEncoding.DecodeString(p.q.Get("next_token"))
		if err != nil || len(raw) != nextTokenLen {
			return b, badRequest("Invalid next_token")
		}
		after.set = true
		after.t = int64(binary.BigEndian.Uint64(raw))
		copy(after.id[:], raw[8:])
	}
	size := s.pageSize(limit)
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.data
	lo := d.updatedFrom(since)
	if after.set {
		lo = max(lo, d.afterKey(after.t, after.id))
	}
	v := d.byUpdated[lo:]
	b = append(b, `{"data":[`...)
	b, n, last := d.appendPage(b, v, false, 0, size)
	b = append(b, `],"next_token":`...)
	if n < len(v) {
		var raw [nextTokenLen]byte
		binary.BigEndian.PutUint64(raw[:], uint64(d.recs[last].updated))
		copy(raw[8:], d.recs[last].id[:])
		b = append(b, '"')
		b = base64.RawURLEncoding.AppendEncode(b, raw[:])
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	return append(b, "}\n"...), nil
}

func startingAfter(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "limit", "starting_after")
	if err != nil {
		return b, err
	}
	limit, err := p.int("limit", 10, 1, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	var id [16]byte
	if p.has("starting_after") {
		var ok bool
		if id, ok = parseUUID(p.q.Get("starting_after")); !ok {
			return b, badRequest("Invalid starting_after: not a user id")
		}
	}
	size := s.pageSize(limit)
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.data
	start := 0
	if p.has("starting_after") {
		i, ok := d.find(id)
		if !ok {
			return b, badRequest("No such user: " + p.q.Get("starting_after"))
		}
		start = d.createdAfter(i)
	}
	order := d.createdOrder()
	b = append(b, `{"object":"list","data":[`...)
	b, n, _ := d.appendPage(b, order, false, start, size)
	b = append(b, `],"has_more":`...)
	b = strconv.AppendBool(b, start+n < len(order))
	b = append(b, `,"url":"`+PathStartingAfter+`"}`+"\n"...)
	return b, nil
}
