package mockapi

import (
	"math"
	"net/http"
	"strconv"
	"strings"
)

// Endpoints that behave like json-server, the mock REST server many
// front-end and connector tutorials use, in its two generations. They serve
// the same records as the other endpoints, by default in ascending
// (updatedAt, id) order, the order in which an append-only store would hold
// them.
const (
	// PathJSONServer answers as json-server 0.17 does. With _page (from
	// 1; below 1 counts as 1) and _limit (default 10) it serves that page
	// as a bare JSON array, with X-Total-Count and a Link header holding
	// the absolute URLs of the "first", "prev", "next" and "last" pages
	// (no Link when one page holds everything; a page past the end is []
	// with no Link). With _start and _limit, or _start and _end, it serves
	// that slice with X-Total-Count. With none of them, every record.
	// _sort=updatedAt|createdAt and _order=asc|desc choose the order;
	// updatedAt_gte=YYYY-MM-DDTHH:MM:SSZ keeps the records updated at or
	// after it.
	PathJSONServer = "/json-server/users"

	// PathJSONServerV1 answers as json-server 1.x does. With _page and
	// _per_page (default 10) the body is
	// {"first": 1, "prev": null, "next": 2, "last": 4, "pages": 4,
	// "items": 37, "data": [...]}: next and prev are page numbers, null at
	// the ends, and a page past the end (or below 1) is clamped: the last
	// page (or the first) is served again. Without _page the body is the
	// bare array of every record. _sort=updatedAt, -updatedAt, createdAt or
	// -createdAt chooses the order; updatedAt:gte=YYYY-MM-DDTHH:MM:SSZ
	// filters.
	PathJSONServerV1 = "/json-server/v1/users"
)

func jsonServer(s *Server, w http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "_page", "_limit", "_start", "_end", "_sort", "_order", "updatedAt_gte")
	if err != nil {
		return b, err
	}
	byCreated, err := p.sortField(strings.TrimPrefix(p.q.Get("_sort"), "-"))
	if err != nil || strings.HasPrefix(p.q.Get("_sort"), "-") {
		return b, badRequest("Invalid _sort: must be updatedAt or createdAt")
	}
	var desc bool
	switch p.q.Get("_order") {
	case "desc":
		desc = true
	case "asc", "":
	default:
		return b, badRequest("Invalid _order: must be asc or desc")
	}
	since, err := p.sinceFrom("updatedAt_gte")
	if err != nil {
		return b, err
	}
	limit, err := p.int("_limit", 10, 1, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	start, err := p.int("_start", 0, 0, math.MaxInt)
	if err != nil {
		return b, err
	}
	page, err := p.int("_page", 1, math.MinInt, math.MaxInt)
	if err != nil {
		return b, err
	}
	end, err := p.int("_end", 0, 0, math.MaxInt)
	if err != nil {
		return b, err
	}
	paged := p.has("_page") || p.has("_limit") || p.has("_end")
	size := 0
	if p.has("_page") || p.has("_limit") {
		size = s.pageSize(limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.data.ordered(byCreated, since)
	off, n := start, len(v)
	switch {
	case p.has("_page"):
		page = max(page, 1)
		off, n = pageOffset(page, size, len(v)), size
		if off < len(v) && size < len(v) {
			w.Header().Set("Link", jsonServerLinks(r, page, totalPages(len(v), size), off+size < len(v)))
		}
	case p.has("_end"):
		n = max(end-start, 0)
	case p.has("_limit"):
		n = size
	}
	if paged {
		w.Header().Set("X-Total-Count", strconv.Itoa(len(v)))
	}
	b = append(b, '[')
	b, _, _ = s.data.appendPage(b, v, desc, min(off, len(v)), n)
	return append(b, "]\n"...), nil
}

// jsonServerLinks returns json-server 0.17's Link header for page of pages:
// the request's own absolute URL with _page replaced.
func jsonServerLinks(r *http.Request, page, pages int, hasNext bool) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := r.URL.Query()
	link := func(n int, rel string) string {
		q.Set("_page", strconv.Itoa(n))
		return "<" + scheme + "://" + r.Host + r.URL.Path + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	links := []string{link(1, "first")}
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if hasNext {
		links = append(links, link(page+1, "next"))
	}
	return strings.Join(append(links, link(pages, "last")), ", ")
}

func jsonServerV1(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "_page", "_per_page", "_sort", "updatedAt:gte")
	if err != nil {
		return b, err
	}
	sort := p.q.Get("_sort")
	desc := strings.HasPrefix(sort, "-")
	byCreated, err := p.sortField(strings.TrimPrefix(sort, "-"))
	if err != nil {
		return b, badRequest("Invalid _sort: must be updatedAt, -updatedAt, createdAt or -createdAt")
	}
	since, err := p.sinceFrom("updatedAt:gte")
	if err != nil {
		return b, err
	}
	page, err := p.int("_page", 1, math.MinInt, math.MaxInt)
	if err != nil {
		return b, err
	}
	perPage, err := p.int("_per_page", 10, 1, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	size := s.pageSize(perPage)
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.data.ordered(byCreated, since)
	if !p.has("_page") {
		b = append(b, '[')
		b, _, _ = s.data.appendPage(b, v, desc, 0, len(v))
		return append(b, "]\n"...), nil
	}
	last := totalPages(len(v), size)
	page = max(1, min(page, last))
	b = append(b, `{"first":1,"prev":`...)
	b = appendPageOrNull(b, page-1, page-1 >= 1)
	b = append(b, `,"next":`...)
	b = appendPageOrNull(b, page+1, page+1 <= last)
	b = append(b, `,"last":`...)
	b = strconv.AppendInt(b, int64(last), 10)
	b = append(b, `,"pages":`...)
	b = strconv.AppendInt(b, int64(last), 10)
	b = append(b, `,"items":`...)
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, `,"data":[`...)
	b, _, _ = s.data.appendPage(b, v, desc, pageOffset(page, size, len(v)), size)
	return append(b, "]}\n"...), nil
}

func appendPageOrNull(b []byte, n int, ok bool) []byte {
	if !ok {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// sortField reads a json-server _sort field: updatedAt (or empty) or
// createdAt, reported as byCreated.
func (p params) sortField(field string) (byCreated bool, err error) {
	switch field {
	case "updatedAt", "":
		return false, nil
	case "createdAt":
		return true, nil
	}
	return false, badRequest("Invalid _sort")
}

// sinceFrom reads a lower bound on updatedAt from the parameter name, as
// Unix seconds, MinInt64 when absent.
func (p params) sinceFrom(name string) (int64, error) {
	if !p.has(name) {
		return math.MinInt64, nil
	}
	t, ok := parseTime(p.q.Get(name))
	if !ok {
		return 0, badRequest("Invalid " + name + ": must look like YYYY-MM-DDTHH:MM:SSZ")
	}
	return t, nil
}
