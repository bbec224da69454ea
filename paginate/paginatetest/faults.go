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
// that points to itself.
func Replay(h http.Handler, from int) http.Handler {
	var (
		mu    sync.Mutex
		count int
		saved *httptest.ResponseRecorder
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		count++
		n := count
		rec := saved
		mu.Unlock()
		if n < from-1 || rec == nil && n != from-1 {
			h.ServeHTTP(w, r)
			return
		}
		if n == from-1 {
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			mu.Lock()
			saved = rec
			mu.Unlock()
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = bytes.NewReader(rec.Body.Bytes()).WriteTo(w)
	})
}
