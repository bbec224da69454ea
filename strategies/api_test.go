package strategies_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/pagekit/pagekit/paginate"
)

// user is the record the test APIs serve.
type user struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	UpdatedAt string `json:"updatedAt"`
}

func userKey(u user) string       { return u.ID }
func userUpdatedAt(u user) string { return u.UpdatedAt }

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// users returns n users with distinct ids and increasing updatedAt.
func users(n int) []user {
	us := make([]user, n)
	for i := range us {
		us[i] = user{
			ID:        fmt.Sprintf("u%04d", i+1),
			Name:      fmt.Sprintf("User %d", i+1),
			UpdatedAt: epoch.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
		}
	}
	return us
}

func ids(us []user) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// fast is a retry policy that does not make tests wait.
var fast = paginate.Retry{BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }, MaxRetryAfter: time.Millisecond}

// serve starts a test server on 127.0.0.1 that records every request's
// query, and closes it when the test ends.
func serve(t *testing.T, h http.Handler) (*httptest.Server, *queries) {
	t.Helper()
	q := new(queries)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q.add(r)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, q
}

// queries records the requests a server received.
type queries struct {
	mu   sync.Mutex
	raw  []string
	reqs []*http.Request
}

func (q *queries) add(r *http.Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.raw = append(q.raw, r.URL.RawQuery)
	q.reqs = append(q.reqs, r.Clone(context.Background()))
}

func (q *queries) list() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.raw...)
}

func (q *queries) requests() []*http.Request {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]*http.Request(nil), q.reqs...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// intParam reads a query parameter as an int, or def when absent.
func intParam(r *http.Request, name string, def int) int {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// window returns us[from:from+n], clipped.
func window(us []user, from, n int) []user {
	if from < 0 || from >= len(us) {
		return []user{}
	}
	return us[from:min(from+n, len(us))]
}

// pageAPI serves users by page number, and can misbehave as the tests ask.
type pageAPI struct {
	users     []user
	cap       int  // the largest page served; 0 means 50
	zeroBased bool // page 0 is the first page
	// totalPages and totalItems, when set, compute the totals reported
	// from the real ones; nil leaves them out.
	totalPages func(real int) int
	totalItems func(real int) int
	echoPage   bool // report "page"
	lastAgain  bool // serve the last page for any page past the end
	hasMore    bool // report "has_more"
	array      bool // serve the bare array, with X-Total-Count
	// hidden, when set, says which pages are served empty, as by an API
	// that filters each page after paging (a page of records the caller
	// may not see); their records are not part of the data.
	hidden func(page int) bool
}

func (a *pageAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	size := intParam(r, "per_page", 10)
	first := 1
	if a.zeroBased {
		first = 0
	}
	page := intParam(r, "page", first)
	if size < 1 || page < first {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad page or per_page"})
		return
	}
	size = min(size, cmpOr(a.cap, 50))
	us := since(a.users, r.URL.Query().Get("updated_since"))
	pages := (len(us) + size - 1) / size
	if a.lastAgain && page-first >= pages && pages > 0 {
		page = pages - 1 + first
	}
	data := window(us, (page-first)*size, size)
	if a.hidden != nil && a.hidden(page) {
		data = nil
	}
	if a.array {
		w.Header().Set("X-Total-Count", strconv.Itoa(len(us)))
		writeJSON(w, http.StatusOK, data)
		return
	}
	body := map[string]any{"data": data}
	if a.totalPages != nil {
		body["total_pages"] = a.totalPages(pages)
	}
	if a.totalItems != nil {
		body["total_items"] = a.totalItems(len(us))
	}
	if a.echoPage {
		body["page"] = page
	}
	if a.hasMore {
		body["has_more"] = (page-first+1)*size < len(us)
	}
	writeJSON(w, http.StatusOK, body)
}

// since returns the users updated at or after ts (all for an empty ts).
func since(us []user, ts string) []user {
	i := 0
	for i < len(us) && us[i].UpdatedAt < ts {
		i++
	}
	return us[i:]
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// runAll syncs p into a memory sink and returns what it received.
func runAll[T any](t *testing.T, p paginate.Paginator[T], opts paginate.Options[T]) ([]T, paginate.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if reflect.ValueOf(opts.Retry).IsZero() {
		opts.Retry = fast
	}
	sink := new(paginate.MemorySink[T])
	res, err := paginate.Run(ctx, p, sink, opts)
	return sink.Items(), res, err
}
