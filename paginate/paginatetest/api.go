package paginatetest

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
)

// Response is one scripted answer of an [API].
type Response struct {
	// Query selects the requests this response answers, in URL query form
	// ("page=2&per_page=50"): every parameter it names must have that
	// value in the request; parameters it does not name are ignored. An
	// empty Query answers any request.
	Query string
	// Path, when set, must equal the request's URL path.
	Path string
	// Status is the HTTP status; zero means 200.
	Status int
	// Header is added to the response.
	Header http.Header
	// Body is the response body.
	Body string
}

// Fault is what the API does to one request instead of answering it.
type Fault struct {
	// Status answers with this status and Body (503, 429, ...).
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Body is sent with Status.
	Body string
	// Drop writes half of the real response's body, then cuts the
	// connection.
	Drop bool
}

// API is a scripted fake API: each request gets the first [Response] whose
// Query and Path match it, unless Faults holds a fault for the request's
// number. A request nothing matches gets 404 with a body that says so. It
// records every request. It is safe for concurrent use once configured.
type API struct {
	// Responses are the scripted answers, tried in order.
	Responses []Response
	// Faults maps a 1-based request number to the fault that request gets.
	Faults map[int]Fault
	// ItemsPath, when set, makes the API an [Oracle] that a [Suite] checks
	// syncs against: it names the field of the response bodies that holds
	// their records ("data", "result.items", or "." for a body that is
	// itself an array). See [API.WantJSON].
	ItemsPath string

	mu       sync.Mutex
	requests []string
}

// ServeHTTP answers r from the script.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.requests = append(a.requests, r.URL.RequestURI())
	n := len(a.requests)
	a.mu.Unlock()
	if f, ok := a.Faults[n]; ok && !f.Drop {
		writeFault(w, f)
		return
	}
	resp, ok := a.match(r)
	if !ok {
		http.Error(w, fmt.Sprintf(`{"error": "paginatetest: no scripted response for %s"}`, r.URL.RequestURI()), http.StatusNotFound)
		return
	}
	if f, ok := a.Faults[n]; ok && f.Drop {
		drop(w, resp.Body)
		return
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(cmp.Or(resp.Status, http.StatusOK))
	fmt.Fprint(w, resp.Body)
}

// Requests returns the request URIs received so far, in order.
func (a *API) Requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.requests...)
}

func (a *API) match(r *http.Request) (Response, bool) {
	q := r.URL.Query()
	for _, resp := range a.Responses {
		if resp.Path != "" && resp.Path != r.URL.Path {
			continue
		}
		want, err := url.ParseQuery(resp.Query)
		if err != nil {
			continue
		}
		ok := true
		for k, vs := range want {
			if len(vs) == 0 || q.Get(k) != vs[0] {
				ok = false
				break
			}
		}
		if ok {
			return resp, true
		}
	}
	return Response{}, false
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(cmp.Or(f.Status, http.StatusServiceUnavailable))
	fmt.Fprint(w, f.Body)
}

// drop sends the headers and half the body, then cuts the connection, as a
// server that dies mid-response does.
func drop(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}
