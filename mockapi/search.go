package mockapi

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Endpoints of the shapes incremental syncs meet beyond the listings: a
// search by POST with its cursor and filters in a JSON body, and a feed
// served newest first with no filter at all.
const (
	// PathSearch is a HubSpot-style search: POST a JSON body
	// {"filter": {"updated_since": ts, "updated_until": ts}, "limit": n,
	// "after": token}, every field optional, and get {"results": [...],
	// "total": n, "paging": {"next": {"after": token}}}, with "paging"
	// left out on the last page. Records come in ascending (updatedAt,
	// id); updated_since is inclusive, updated_until exclusive, both
	// YYYY-MM-DDTHH:MM:SSZ; limit is 1..MaxPerPage (10 by default). An
	// unknown field, a malformed value or a token that does not decode:
	// 400. Other methods than POST: 405.
	PathSearch = "/search/users"

	// PathNewestFirst lists every record newest first, by descending
	// (updatedAt, id), with per_page (10) and page (1) and no filter:
	// {"data": [...], "page": n, "page_size": n}. A client that syncs
	// incrementally stops once the records fall below its mark.
	PathNewestFirst = "/pagination/newest_first"
)

// postRoutes are the endpoints that take POST, and only POST.
var postRoutes = map[string]handler{
	PathSearch: search,
}

// searchRequest is the body PathSearch takes.
type searchRequest struct {
	Filter struct {
		UpdatedSince *string `json:"updated_since"`
		UpdatedUntil *string `json:"updated_until"`
	} `json:"filter"`
	Limit *json.Number `json:"limit"`
	After *string      `json:"after"`
}

// maxSearchBody caps the body PathSearch reads.
const maxSearchBody = 64 << 10

func search(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxSearchBody+1))
	if err != nil || len(raw) > maxSearchBody {
		return b, badRequest("Invalid body: unreadable or larger than 64 KiB")
	}
	var req searchRequest
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		if err := dec.Decode(&req); err != nil {
			return b, badRequest("Invalid body: " + err.Error())
		}
	}
	limit := 10
	if req.Limit != nil {
		n, err := strconv.Atoi(req.Limit.String())
		if err != nil || n < 1 || n > s.cfg.maxPerPage() {
			return b, badRequest("Invalid limit: must be an integer between 1 and " + strconv.Itoa(s.cfg.maxPerPage()))
		}
		limit = n
	}
	since, until := int64(0), int64(0)
	if p := req.Filter.UpdatedSince; p != nil {
		t, ok := parseTime(*p)
		if !ok {
			return b, badRequest("Invalid filter.updated_since: must look like YYYY-MM-DDTHH:MM:SSZ")
		}
		since = t
	}
	if p := req.Filter.UpdatedUntil; p != nil {
		t, ok := parseTime(*p)
		if !ok {
			return b, badRequest("Invalid filter.updated_until: must look like YYYY-MM-DDTHH:MM:SSZ")
		}
		until = t
	}
	var after []byte
	if req.After != nil {
		after, err = base64.RawURLEncoding.DecodeString(*req.After)
		if err != nil || len(after) != nextTokenLen {
			return b, badRequest("Invalid after")
		}
	}
	size := s.pageSize(limit)
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.data
	lo, hi := 0, d.len()
	if req.Filter.UpdatedSince != nil {
		lo = d.updatedFrom(since)
	}
	if req.Filter.UpdatedUntil != nil {
		hi = max(lo, d.updatedFrom(until))
	}
	total := hi - lo
	if after != nil {
		var id [16]byte
		copy(id[:], after[8:])
		lo = min(hi, max(lo, d.afterKey(int64(binary.BigEndian.Uint64(after)), id)))
	}
	v := d.byUpdated[lo:hi]
	b = append(b, `{"results":[`...)
	b, n, last := d.appendPage(b, v, false, 0, size)
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	if n < len(v) {
		var tok [nextTokenLen]byte
		binary.BigEndian.PutUint64(tok[:], uint64(d.recs[last].updated))
		copy(tok[8:], d.recs[last].id[:])
		b = append(b, `,"paging":{"next":{"after":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, tok[:])
		b = append(b, `"}}`...)
	}
	return append(b, "}\n"...), nil
}

func newestFirst(s *Server, _ http.ResponseWriter, r *http.Request, b []byte) ([]byte, error) {
	p, err := parseParams(r.URL, "per_page", "page")
	if err != nil {
		return b, err
	}
	size, err := p.int("per_page", 10, 1, s.cfg.maxPerPage())
	if err != nil {
		return b, err
	}
	page, err := p.int("page", 1, 1, 1<<31-1)
	if err != nil {
		return b, err
	}
	size = s.pageSize(size)
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.data.byUpdated
	b = append(b, `{"data":[`...)
	b, _, _ = s.data.appendPage(b, v, true, s.pageStart(page, size, len(v)), size)
	b = append(b, `],"page":`...)
	b = strconv.AppendInt(b, int64(page), 10)
	b = append(b, `,"page_size":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	return append(b, "}\n"...), nil
}

// InsertLate adds n records whose updatedAt lies behind, before the latest
// updatedAt of the dataset, and returns them in (updatedAt, id) order:
// records an API makes visible late, with a timestamp that a sync may
// already have passed (eventual consistency). A sync from the latest mark
// misses them; one that looks back further than behind reads them. behind
// is rounded to whole seconds.
func (s *Server) InsertLate(n int, behind time.Duration) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.data.insertAt(n, s.data.maxUpdated()-int64(behind/time.Second))
	s.stats.inserted.Add(int64(len(idx)))
	return s.data.users(idx)
}

// insertAt adds n records created and updated at t, keeping byUpdated in
// order, and returns them in (updated, id) order.
func (d *dataset) insertAt(n int, t int64) []int32 {
	n = min(n, MaxRecords-len(d.recs))
	if n <= 0 {
		return nil
	}
	var idx []int32
	for range n {
		i := int32(len(d.recs))
		d.recs = append(d.recs, rec{id: newID(d.mut), created: t, updated: t})
		idx = append(idx, i)
		if d.encAt != nil {
			d.encode(i)
		}
	}
	for _, i := range idx {
		r := &d.recs[i]
		d.byUpdated = slices.Insert(d.byUpdated, d.afterKey(r.updated, r.id), i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return d.cmpUpdated(a, d.recs[b].updated, &d.recs[b].id) })
	d.idxMu.Lock()
	d.byCreated, d.byID = nil, nil // rebuilt on their next use
	clear(d.filtered)
	d.idxMu.Unlock()
	return idx
}
