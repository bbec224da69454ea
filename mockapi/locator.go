package mockapi

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PathQueryLocator is a Salesforce-style query whose result is read
// through query locators that expire. A first request, GET
// PathQueryLocator with per_page (10) and an inclusive updated_since, the
// latter as a query parameter or as the header X-Updated-Since, gets
// {"totalSize": n, "done": false, "nextRecordsUrl": "/pagination/query_locator/01g…",
// "records": [...]}, records in ascending (updatedAt, id); "done" is true,
// and nextRecordsUrl left out, on the last page. The next page is read by
// GET nextRecordsUrl as it is: a locator request with any query parameter
// or an X-Updated-Since header gets 400 MALFORMED_QUERY, as the filter and
// the batch size belong to the query, not to its locators.
//
// A locator lives [Config].LocatorTTL from when it is issued (for ever
// when zero), and until [Server.ExpireLocators]; an expired or unknown one gets 400
// [{"errorCode": "INVALID_QUERY_LOCATOR", "message": "invalid query
// locator"}], as Salesforce answers. A record updated while a client reads
// the locators moves past them and is served again later; none is
// skipped.
const PathQueryLocator = "/pagination/query_locator"

// locator is where a query stands: the records after (t, id) that match
// since, size a page.
type locator struct {
	since   int64
	t       int64
	id      [16]byte
	size    int
	total   int
	expires time.Time // zero: never
	expired bool
}

// locators are the locators a Server issued, by id.
type locators struct {
	mu   sync.Mutex
	byID map[string]*locator
	n    int
}

func (ls *locators) add(l *locator, served int) string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.byID == nil {
		ls.byID = make(map[string]*locator)
	}
	ls.n++
	id := "01gQ" + strconv.Itoa(ls.n) + "-" + strconv.Itoa(served)
	ls.byID[id] = l
	return id
}

func (ls *locators) get(id string, now time.Time) (*locator, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l, ok := ls.byID[id]
	if !ok || l.expired || !l.expires.IsZero() && !now.Before(l.expires) {
		return nil, false
	}
	return l, true
}

// ExpireLocators makes every query locator of PathQueryLocator issued so
// far expire now, as Salesforce's do after fifteen minutes or when a user
// holds too many.
func (s *Server) ExpireLocators() {
	ls := &s.locators
	ls.mu.Lock()
	defer ls.mu.Unlock()
	for _, l := range ls.byID {
		l.expired = true
	}
}

// queryRoute returns the handler of a locator request.
func queryRoute(path string) (handler, bool) {
	if id, ok := strings.CutPrefix(path, PathQueryLocator+"/"); ok && id != "" && !strings.Contains(id, "/") {
		return queryLocator, true
	}
	return nil, false
}

// sfError is an error answered with Salesforce's body: 400
// [{"errorCode": code, "message": msg}].
type sfError struct{ code, msg string }

func (e sfError) Error() string { return e.code + ": " + e.msg }

func (e sfError) write(s *Server, w http.ResponseWriter) {
	b := append(appendString(append([]byte(nil), `[{"errorCode":`...), e.code), `,"message":`...)
	b = append(appendString(b, e.msg), "}]\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusBadRequest)
	w.Write(b)
}

// query answers the first request of a query.
func query(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "per_page", "updated_since")
	if err != nil {
		return b, err
	}
	size, err := p.int("per_page", 10, 1, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	since, err := p.since()
	if err != nil {
		return b, err
	}
	if h := r.Header.Get("X-Updated-Since"); h != "" {
		if p.has("updated_since") {
			return b, badRequest("Give updated_since as a parameter or as X-Updated-Since, not both")
		}
		t, ok := parseTime(h)
		if !ok {
			return b, badRequest("Invalid X-Updated-Since: must look like YYYY-MM-DDTHH:MM:SSZ")
		}
		since = t
	}
	l := &locator{since: since, t: math.MinInt64, size: s.pageSize(size)}
	s.mu.RLock()
	defer s.mu.RUnlock()
	l.total = len(s.data.byUpdated) - s.data.updatedFrom(since)
	return s.queryPage(b, l, 0), nil
}

// queryLocator answers a request for a locator's page.
func queryLocator(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	if r.URL.RawQuery != "" || r.Header.Get("X-Updated-Since") != "" {
		return b, sfError{"MALFORMED_QUERY", "a query locator takes no parameters: the query's filter and batch size go with its first request"}
	}
	id := strings.TrimPrefix(r.URL.Path, PathQueryLocator+"/")
	l, ok := s.locators.get(id, time.Now())
	if !ok {
		return b, sfError{"INVALID_QUERY_LOCATOR", "invalid query locator"}
	}
	served, _ := strconv.Atoi(id[strings.LastIndexByte(id, '-')+1:])
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.queryPage(b, l, served), nil
}

// queryPage appends the page of l, served records into the query, with
// the locator of the page after it.
func (s *Server) queryPage(b []byte, l *locator, served int) []byte {
	d := s.data
	lo := d.updatedFrom(l.since)
	if l.t != math.MinInt64 {
		lo = max(lo, d.afterKey(l.t, l.id))
	}
	v := d.byUpdated[lo:]
	b = append(b, `{"totalSize":`...)
	b = strconv.AppendInt(b, int64(l.total), 10)
	var page []byte
	page, n, last := d.appendPage(nil, v, false, 0, l.size)
	if n < len(v) {
		next := &locator{since: l.since, t: d.recs[last].updated, id: d.recs[last].id, size: l.size, total: l.total}
		if ttl := s.cfg.LocatorTTL; ttl > 0 {
			next.expires = time.Now().Add(ttl)
		}
		b = append(b, `,"done":false,"nextRecordsUrl":`...)
		b = appendString(b, PathQueryLocator+"/"+s.locators.add(next, served+n))
	} else {
		b = append(b, `,"done":true`...)
	}
	b = append(append(b, `,"records":[`...), page...)
	return append(b, "]}\n"...)
}
