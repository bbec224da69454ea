package paginatetest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
)

// WithFaults wraps h so that request number n (1-based) gets fault(n)
// instead of h's answer, when fault returns true. Drop faults let h answer,
// then send only half of its body.
func WithFaults(h http.Handler, fault func(n int) (Fault, bool)) http.Handler {
	var mu sync.Mutex
	count := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		count++
		n := count
		mu.Unlock()
		f, ok := fault(n)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if !f.Drop {
			writeFault(w, f)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		drop(w, rec.Body.String())
	})
}

// Replay wraps h so that, from request number from on, every request gets
// the answer h gave to request number from-1: a server stuck on one page,
// as an out-of-range page that returns the last page again, or a next link
// that points to itself. A request that arrives while that answer is still
// being produced, as parallel fetches do, waits for it. A from below 2 is
// taken as 2.
func Replay(h http.Handler, from int) http.Handler {
	from = max(from, 2)
	return stuck(h, from-1, from)
}

// stuck wraps h so that, from request number from on, every request gets
// the answer h gave to request number save (save < from); the requests
// between them are h's.
func stuck(h http.Handler, save, from int) http.Handler {
	var (
		mu    sync.Mutex
		count int
		saved *httptest.ResponseRecorder
		ready = make(chan struct{}) // closed once saved is final
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		count++
		n := count
		mu.Unlock()
		switch {
		case n < save || n > save && n < from:
			h.ServeHTTP(w, r)
			return
		case n == save:
			defer close(ready) // even if h panics, so that no request waits forever
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			saved = rec
		default:
			select {
			case <-ready:
			case <-r.Context().Done():
				return
			}
			if saved == nil { // h panicked on the answer to replay
				h.ServeHTTP(w, r)
				return
			}
		}
		for k, vs := range saved.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(saved.Code)
		_, _ = bytes.NewReader(saved.Body.Bytes()).WriteTo(w)
	})
}
