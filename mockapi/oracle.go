package mockapi

import (
	"net/http"
	"net/url"
	"slices"
)

// WantJSON returns, as a JSON array, every record that a complete sync of
// the listing r asks for must deliver, in the order its endpoint serves
// them: the records updated at or after r's updated_since (all of them
// without it), ordered by order_by and order_type on the endpoints that
// take them. What says where a page starts (page, offset, next_token,
// scroll_param, starting_after) and how large it is does not change the
// answer: a sync must deliver the whole listing, whatever its first
// request asks for. A path that is not an endpoint, or a malformed filter,
// is an error.
//
// It makes the Server the oracle that paginatetest.Suite looks for, so a
// conformance test checks a paginator against the records the Server
// holds, not against the paginator's own first sync. The keyset
// endpoint's listing skips records that share an updatedAt across a page
// boundary; WantJSON lists them, so a sync over it is found short.
func (s *Server) WantJSON(r *http.Request) ([]byte, error) {
	if _, ok := routes[r.URL.Path]; !ok {
		return nil, badRequest("mockapi: no listing at " + r.URL.Path)
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("mockapi: invalid query string: " + err.Error())
	}
	p := params{q}
	since, err := p.since()
	if err != nil {
		return nil, err
	}
	byCreated, desc := r.URL.Path == PathStartingAfter, false
	if r.URL.Path != PathStartingAfter && r.URL.Path != PathKeyset && r.URL.Path != PathNextToken {
		if byCreated, desc, err = p.order(); err != nil {
			return nil, err
		}
	}
	desc = desc || r.URL.Path == PathNewestFirst
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.data.ordered(byCreated, since)
	if desc {
		v = slices.Clone(v)
		slices.Reverse(v)
	}
	b := append(make([]byte, 0, 300*len(v)+2), '[')
	for k, i := range v {
		if k > 0 {
			b = append(b, ',')
		}
		b = s.data.appendJSON(b, i)
	}
	return append(b, ']'), nil
}

// Mutate updates n records and inserts m new ones in one step, as Update
// and Insert do. It makes the Server the Mutator that paginatetest.Suite
// looks for, so a conformance test checks that syncs after a stop catch up
// with a source that changed.
func (s *Server) Mutate(n, m int) {
	s.mutate(n, m)
}
