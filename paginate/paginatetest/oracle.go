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
// each page, a first page never asked for, a sync that ends a page early)
// fails. mockapi.Server is an Oracle, and so is an [API] with ItemsPath.
type Oracle interface {
	// WantJSON returns, as a JSON array, every record that a complete
	// sync of the listing r asks for must deliver, in the order the API
	// serves them. The suite passes the first request of a sync from the
	// start, so r names the endpoint and its filters, and decodes the
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
	// mutated is set when the suite changed the source since the full
	// sync.
	mutated bool
}

// wantFrom returns the truth the full sync got must match: Want, the
// Handler's oracle for first, or got itself under NoOracle.
func (s Suite[T]) wantFrom(first *request, got *table[T]) (*truth[T], error) {
	tr := &truth[T]{first: first.String()}
	want := s.Want
	switch {
	case want != nil:
		tr.source = "Suite.Want"
	case s.NoOracle != "":
		tr.table, tr.order = got, got.order
		tr.source = "the first full sync (no oracle: " + s.NoOracle + ")"
		return tr, nil
	default:
		var err error
		if want, err = s.ask(first); err != nil {
			return nil, err
		}
		tr.source = "the Handler's oracle for " + tr.first
	}
	tr.table = newTable(s.Key)
	tr.table.upsert(want)
	tr.order = tr.table.order
	return tr, nil
}

// ask returns what the Handler's oracle says a sync that starts with first
// must deliver.
func (s Suite[T]) ask(first *request) ([]T, error) {
	o, ok := s.Handler.(Oracle)
	if !ok || first == nil {
		return nil, errNoOracle
	}
	b, err := o.WantJSON(first.get())
	if err != nil {
		return nil, fmt.Errorf("paginatetest: the Handler's oracle (WantJSON) for %s: %w", first, err)
	}
	var want []T
	if err := json.Unmarshal(b, &want); err != nil {
		return nil, fmt.Errorf("paginatetest: the Handler's oracle (WantJSON) for %s gave records that do not decode into %T (%w); set Suite.Want to the records your paginator must deliver", first, want, err)
	}
	return want, nil
}

// hasOracle reports whether the suite has something to check syncs
// against, or explicitly none.
func (s Suite[T]) hasOracle() error {
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
