package paginatetest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// An Oracle is a handler that knows the records behind it. A [Suite] whose
// Handler is an Oracle checks every sync against those records, so that a
// paginator that is wrong the same way on every run (a record skipped on
// each page, a first page never asked for, a sync that ends a page early,
// a full sync that filters) fails. mockapi.Server is an Oracle, and so is
// an [API] with ItemsPath.
type Oracle interface {
	// WantJSON returns, as a JSON array, every record that a complete
	// sync of the listing r asks for must deliver, in the order the API
	// serves them. The suite asks it for the first request of the full
	// sync, and for that request without its query string: the whole
	// listing of the path, which a full sync must deliver whatever
	// filters it sends. The records' JSON also tells the suite which
	// records the API changed between two syncs. The suite decodes the
	// array into []T with encoding/json.
	WantJSON(r *http.Request) ([]byte, error)
}

// A Mutator is a handler whose records can change between syncs, as a live
// API's do. When the Handler is a Mutator and an [Oracle], the suite's
// "rerun" subtest changes the records between runs and checks that the
// later runs catch up. mockapi.Server is a Mutator.
type Mutator interface {
	// Mutate gives n existing records new values, which later syncs must
	// deliver, and adds m new records.
	Mutate(n, m int)
}

// errNoOracle is Run's failure for a Suite with nothing to check syncs
// against.
var errNoOracle = errors.New(`paginatetest: the Suite has no oracle, so it could only check that the paginator agrees with itself, and a paginator that skips a record on every page would pass. Give it one:
	- Want: every record a full sync must deliver (for a mockapi.Server, srv.Records());
	- a Handler that implements paginatetest.Oracle (a *mockapi.Server, or a paginatetest.API with ItemsPath set) and is not wrapped in another handler;
	- or, when no oracle can exist (a recording of an API you cannot list), NoOracle: "the reason", to run the other checks alone`)

// truth is what every sync of a suite must deliver.
type truth[T any] struct {
	table *table[T]
	// order holds the keys in the API's order, so that failures can say
	// where in the listing the missing records are.
	order []string
	// source says where the truth came from, for failure messages.
	source string
	// first is the first request of the full sync, "GET /items?page=1".
	first string
	// req is the request the oracle answers for: the full sync's first
	// request, or its listing (the request without its query) when the
	// first request asks for less; nil without an oracle.
	req *request
	// filter, when set, is the failure of a full sync whose first
	// request asks for fewer records than the API lists.
	filter string
	// versions holds the API's JSON of each record, by key, when the
	// oracle gave it, which tells a record delivered again after a change
	// from a duplicate (see dest).
	versions map[string]string
	// mutated is set when the suite changed the source since the full
	// sync.
	mutated bool
}

// newTruth returns the truth of records, in the API's order.
func newTruth[T any](key func(T) string, records []T, source string) *truth[T] {
	tr := &truth[T]{table: newTable(key), source: source}
	tr.table.upsert(records)
	tr.order = tr.table.order
	return tr
}

// wantFrom returns the truth the full sync got must match: Want, the
// Handler's oracle for the listing first asks for, or got itself under
// NoOracle.
func (s *kit[T]) wantFrom(t testingT, first *request, got *table[T]) (*truth[T], error) {
	switch {
	case s.Want != nil:
		tr := newTruth(s.Key, s.Want, "Suite.Want")
		tr.first = first.String()
		return tr, nil
	case s.NoOracle != "":
		tr := &truth[T]{table: got, order: got.order, first: first.String(),
			source: "the first full sync (no oracle: " + s.NoOracle + ")"}
		return tr, nil
	}
	asked, err := s.ask(first)
	if err != nil {
		return nil, err
	}
	listing := first.listing()
	all, err := s.ask(listing)
	if err != nil {
		// The oracle cannot list the path without the query: it is
		// not the listing, so the first request's answer stands.
		t.Logf("the Handler's oracle cannot answer for %s (%v), so the full sync is checked against what its first request, %s, asks for: a filter the paginator adds to a full sync goes unseen", listing, err, first)
		all = asked
	}
	tr, left := all.truth(s.Key, listing), asked.missing(s.Key, all)
	if len(left) == 0 {
		tr = asked.truth(s.Key, first) // same records, in the order the request asks for
	} else {
		tr.filter = fmt.Sprintf("full sync: its first request filters the listing: %s asks for %d of the %d records the API lists at %s, and a full sync must read them all. A filter a full sync adds (a look-back by default, a date or status filter) loses every record it leaves out, for good: send one only when Position.Since is set, and from it", first, len(all.records)-len(left), len(all.records), listing.r.URL.Path)
	}
	tr.first = first.String()
	return tr, nil
}

// answer is an oracle's answer for one request: the records, decoded,
// and each one's JSON.
type answer[T any] struct {
	records []T
	raw     []json.RawMessage
}

// truth returns the answer as the truth of the sync that sent req.
func (a answer[T]) truth(key func(T) string, req *request) *truth[T] {
	tr := newTruth(key, a.records, "the Handler's oracle for "+req.String())
	tr.req = req
	tr.versions = a.versions(key)
	return tr
}

// versions returns the JSON of each record the API holds, by key: what
// tells a record delivered again after the API changed it from one
// delivered twice.
func (a answer[T]) versions(key func(T) string) map[string]string {
	v := make(map[string]string, len(a.records))
	for i, r := range a.records {
		v[key(r)] = string(a.raw[i])
	}
	return v
}

// keys returns the set of the answer's keys.
func (a answer[T]) keys(key func(T) string) map[string]bool {
	set := make(map[string]bool, len(a.records))
	for _, r := range a.records {
		set[key(r)] = true
	}
	return set
}

// missing returns the keys of other's records that a does not hold.
func (a answer[T]) missing(key func(T) string, other answer[T]) []string {
	have := a.keys(key)
	var out []string
	for _, r := range other.records {
		if k := key(r); !have[k] {
			out = append(out, k)
		}
	}
	return out
}

// ask returns what the Handler's oracle says a sync that starts with req
// must deliver.
func (s *kit[T]) ask(req *request) (answer[T], error) {
	o, ok := s.Handler.(Oracle)
	if !ok || req == nil {
		return answer[T]{}, errNoOracle
	}
	b, err := o.WantJSON(req.get())
	if err != nil {
		return answer[T]{}, fmt.Errorf("paginatetest: the Handler's oracle (WantJSON) for %s: %w", req, err)
	}
	var a answer[T]
	if err := json.Unmarshal(b, &a.raw); err == nil {
		a.records = make([]T, len(a.raw))
		for i, r := range a.raw {
			if err = json.Unmarshal(r, &a.records[i]); err != nil {
				break
			}
		}
	}
	if err != nil {
		return answer[T]{}, fmt.Errorf("paginatetest: the Handler's oracle (WantJSON) for %s gave records that do not decode into %T (%w); set Suite.Want to the records your paginator must deliver", req, a.records, err)
	}
	return a, nil
}

// hasOracle reports whether the suite has something to check syncs
// against, or explicitly none.
func (s *kit[T]) hasOracle() error {
	_, ok := s.Handler.(Oracle)
	switch {
	case s.Want != nil && s.NoOracle != "":
		return errors.New("paginatetest: the Suite sets both Want and NoOracle; Want is an oracle, so drop NoOracle")
	case s.Want == nil && s.NoOracle == "" && !ok:
		return errNoOracle
	}
	return nil
}

// request is a copy of a request the Handler served, body included, to
// hand to an [Oracle] once the handler is done with it.
type request struct {
	r    *http.Request
	body []byte
}

// snapshot copies r; r's body is replaced by an unread copy.
func snapshot(r *http.Request) *request {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return &request{r: r.Clone(context.Background()), body: body}
}

// listing returns q without its query string: the whole listing of the
// path, which a full sync must read whatever filters it sends.
func (q *request) listing() *request {
	c := &request{r: q.r.Clone(context.Background()), body: q.body}
	c.r.URL.RawQuery = ""
	c.r.RequestURI = ""
	return c
}

// get returns a fresh copy of the request, with an unread body.
func (q *request) get() *http.Request {
	c := q.r.Clone(context.Background())
	c.Body = io.NopCloser(bytes.NewReader(q.body))
	return c
}

// String returns "GET /path?query".
func (q *request) String() string {
	if q == nil {
		return "no request"
	}
	return cmp.Or(q.r.Method, http.MethodGet) + " " + q.r.URL.RequestURI()
}

// WantJSON makes an API with ItemsPath an [Oracle]: the records a full
// sync must deliver are those at ItemsPath in the body of every Response
// with a 2xx status whose Path is empty or r's path, in script order.
func (a *API) WantJSON(r *http.Request) ([]byte, error) {
	if a.ItemsPath == "" {
		return nil, errors.New(`API.ItemsPath is empty: set it to the field of the response bodies that holds the records ("data", "result.items", or "." for a body that is itself an array), so that the API knows its records`)
	}
	var all []json.RawMessage
	for i, resp := range a.Responses {
		if st := cmp.Or(resp.Status, http.StatusOK); st < 200 || st > 299 || resp.Path != "" && resp.Path != r.URL.Path {
			continue
		}
		items, err := itemsAt([]byte(resp.Body), a.ItemsPath)
		if err != nil {
			return nil, fmt.Errorf("API.Responses[%d] (query %q): %w", i, resp.Query, err)
		}
		all = append(all, items...)
	}
	if all == nil {
		all = []json.RawMessage{}
	}
	return json.Marshal(all)
}

// itemsAt returns the elements of the JSON array at path in body.
func itemsAt(body []byte, path string) ([]json.RawMessage, error) {
	v := json.RawMessage(body)
	if path != "." {
		for _, name := range strings.Split(path, ".") {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(v, &obj); err != nil {
				return nil, fmt.Errorf("looking for %q in the body: %w", path, err)
			}
			var ok bool
			if v, ok = obj[name]; !ok {
				return nil, fmt.Errorf("the body has no %q", path)
			}
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return nil, fmt.Errorf("%q in the body is not an array: %w", path, err)
	}
	return items, nil
}
