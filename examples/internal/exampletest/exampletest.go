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

	mu    sync.Mutex
	reqs  []Request
	n     int // requests answered
	at    int
	after func()
}

// Serve starts the mock API of cfg for the test's duration.
func Serve(t testing.TB, cfg mockapi.Config) *API {
	t.Helper()
	a := &API{Server: mockapi.New(cfg)}
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	a.Server.ServeHTTP(rec, r)
	req := Request{Path: r.URL.Path, Query: r.URL.Query(), RawQ: r.URL.RawQuery, Status: rec.status}
	if rec.status == http.StatusOK {
		req.IDs = ids(rec.body.Bytes())
	}
	a.mu.Lock()
	a.reqs = append(a.reqs, req)
	a.n++
	var f func()
	if a.after != nil && a.n >= a.at {
		f, a.after = a.after, nil
	}
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

// Requests returns the requests answered so far and forgets them.
func (a *API) Requests() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.reqs
	a.reqs = nil
	return r
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
