// Package exampletest helps the examples' tests: it serves the mock API with a
// log of every request and of every record served, and reads the USER table
// an example filled back as mock API records, to compare with the dataset.
package exampletest

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/sqlite"
	"go.uber.org/goleak"
)

// LeakOptions are the goleak options for the examples' tests: the
// strategies' shared HTTP transport keeps idle connections, and their
// goroutines, by design.
var LeakOptions = []goleak.Option{
	goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
}

// Request is one request the mock API answered.
type Request struct {
	Path   string
	Query  url.Values
	RawQ   string // the query as sent, in its order
	Status int
	// IDs are the ids of the records served, in order.
	IDs []string
}

// API is the mock API served over HTTP on 127.0.0.1, with a log.
type API struct {
	*mockapi.Server
	// URL is the base URL; add a path such as mockapi.PathPageNumber.
	URL string

	mu   sync.Mutex
	idle sync.Cond // signalled when a request has been answered
	srv  *httptest.Server
	// reqs is the log, in the order the requests arrived; a request is
	// logged before it is answered, and its status and records filled
	// in once it has been.
	reqs     []*Request
	inflight int // requests being answered
	n        int // requests answered
	at       int
	after    func()
	holdAt   int // requests arrived, and the one to hold
	arrived  int
	hold     func()
}

// Serve starts the mock API of cfg for the test's duration.
func Serve(t testing.TB, cfg mockapi.Config) *API {
	t.Helper()
	a := &API{Server: mockapi.New(cfg)}
	a.idle.L = &a.mu
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	a.URL = a.srv.URL
	t.Cleanup(func() {
		a.mu.Lock()
		srv := a.srv
		a.mu.Unlock()
		srv.Close()
	})
	return a
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	req := &Request{Path: r.URL.Path, Query: r.URL.Query(), RawQ: r.URL.RawQuery}
	a.mu.Lock()
	// Logged as it arrives, so that the log's order is the order of the
	// requests, and a request is in the log before its client has the
	// answer: a handler that is slow to finish (on a loaded machine)
	// neither reorders the log nor leaves a request out of it.
	a.reqs = append(a.reqs, req)
	a.inflight++
	a.arrived++
	var hold func()
	if a.hold != nil && a.arrived >= a.holdAt {
		hold, a.hold = a.hold, nil
	}
	a.mu.Unlock()
	if hold != nil {
		hold()
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	a.Server.ServeHTTP(rec, r)
	a.mu.Lock()
	req.Status = rec.status
	if rec.status == http.StatusOK {
		req.IDs = ids(rec.body.Bytes())
	}
	a.inflight--
	a.n++
	var f func()
	if a.after != nil && a.n >= a.at {
		f, a.after = a.after, nil
	}
	a.idle.Broadcast()
	a.mu.Unlock()
	if f != nil {
		f()
	}
}

// After calls f once, after the API has answered n more requests (the n-th
// one included, before its response is complete).
func (a *API) After(n int, f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at, a.after = a.n+n, f
}

// Hold calls f once, when the n-th next request arrives, before it is
// answered: that request waits for f to return, and so does every later
// page of a sync that fetches in order.
func (a *API) Hold(n int, f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.holdAt, a.hold = a.arrived+n, f
}

// Requests returns the requests answered so far, in the order they
// arrived, and forgets them. It waits for the requests being answered, so
// that each has its status and records.
func (a *API) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.inflight > 0 {
		a.idle.Wait()
	}
	out := make([]Request, len(a.reqs))
	for i, r := range a.reqs {
		out[i] = *r
	}
	a.reqs = nil
	return out
}

// Restart stops serving once every request being answered has been, and
// serves the same records again at a new URL. A run that was cancelled may
// leave requests on their way to the server, which it would answer, and
// log, at any time later; after Restart none of them is answered. A
// checkpoint names no host, so a sync resumes at the new URL.
func (a *API) Restart() {
	a.mu.Lock()
	old := a.srv
	a.mu.Unlock()
	old.Close() // waits for the handlers of the requests it read
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	a.mu.Lock()
	a.srv, a.URL = srv, srv.URL
	a.mu.Unlock()
}

// CancelOnceCommitted holds the n-th next request until the "user" table
// of the SQLite file at path has a row, then calls cancel: a run cancelled
// part way has committed a page, however slow the machine, and it cannot
// complete first, since it waits for that request's page.
func (a *API) CancelOnceCommitted(t testing.TB, n int, path string, cancel func()) {
	a.Hold(n, func() {
		ctx, stop := context.WithTimeout(context.Background(), time.Minute)
		defer stop()
		if err := WaitRows(ctx, path, 1); err != nil {
			t.Errorf("no page committed before request %d: %v", n, err)
		}
		cancel()
	})
}

// WaitRows waits until the "user" table of the SQLite file at path holds
// at least n rows, or ctx is done.
func WaitRows(ctx context.Context, path string, n int) error {
	db, err := sqlite.Open(path)
	if err != nil {
		return err
	}
	defer db.Close()
	for {
		var rows int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM "user"`).Scan(&rows)
		if err == nil && rows >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d rows in %s, want %d: %w", rows, path, n, errors.Join(ctx.Err(), err))
		case <-time.After(time.Millisecond):
		}
	}
}

// ServedIDs returns the ids of the records served by the requests, sorted,
// once each.
func ServedIDs(reqs []Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.IDs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ids returns the ids of the records in a response body: a bare array, or
// an object whose "data" is one.
func ids(body []byte) []string {
	var recs []struct {
		ID string `json:"id"`
	}
	if bytes.HasPrefix(body, []byte("[")) {
		json.Unmarshal(body, &recs)
	} else {
		var obj struct {
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(body, &obj) == nil {
			json.Unmarshal(obj.Data, &recs)
		}
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// recorder keeps a copy of the status and body a handler writes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// Flush lets a slow body trickle out through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection, which the mock
// API hijacks to drop it mid-body.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ReadUsers returns the rows of the "user" table of the SQLite file at path
// as mock API records, sorted by id.
func ReadUsers(t testing.TB, path string) []mockapi.User {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users, err := QueryUsers(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return users
}

// QueryUsers returns the rows of the "user" table of db as mock API
// records, sorted by id.
func QueryUsers(ctx context.Context, db *sql.DB) ([]mockapi.User, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, name, email, address, company, job, updatedAt, createdAt FROM "user" ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []mockapi.User
	for rows.Next() {
		var u mockapi.User
		var updated, created string
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Address, &u.Company, &u.Job, &updated, &created); err != nil {
			return nil, err
		}
		if u.UpdatedAt, err = time.Parse(sqlite.DatetimeLayout, updated); err != nil {
			return nil, err
		}
		if u.CreatedAt, err = time.Parse(sqlite.DatetimeLayout, created); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ByID returns a copy of users sorted by id, the order of ReadUsers.
func ByID(users []mockapi.User) []mockapi.User {
	out := slices.Clone(users)
	slices.SortFunc(out, func(a, b mockapi.User) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
