package mockapi

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// Server is the mock API: an [http.Handler] over a dataset that it
// generates from its [Config], serves on the paths in the package
// documentation, and mutates on demand. It is safe for concurrent use.
type Server struct {
	cfg Config

	mu   sync.RWMutex // read for serving, write for mutating
	data *dataset

	faultMu   sync.Mutex
	requests  uint64 // requests planned so far
	burstLeft int    // 429s left in the current burst

	stats    counters
	bufs     sync.Pool // *[]byte response buffers
	tokens   tokens    // issued by PathToken
	locators locators  // issued by PathQueryLocator
}

// New returns a Server for cfg. It panics if cfg.Validate reports an
// error; call Validate first to handle the error instead.
func New(cfg Config) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg.TieGroups = append([]TieGroup(nil), cfg.TieGroups...)
	cfg.ErrorCodes = append([]int(nil), cfg.errorCodes()...)
	return &Server{
		cfg:  cfg,
		data: newDataset(cfg),
		bufs: sync.Pool{New: func() any {
			b := make([]byte, 0, 16<<10)
			return &b
		}},
	}
}

// Len returns the number of records.
func (s *Server) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.data.len()
}

// Records returns every record in ascending (updatedAt, id) order: the
// order of a full page-number walk with order_by=updatedAt&order_type=asc.
// It allocates every record; for a large dataset, prefer Len and Get.
func (s *Server) Records() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.data.users(s.data.byUpdated)
}

// Get returns the record with this id.
func (s *Server) Get(id string) (User, bool) {
	uid, ok := parseUUID(id)
	if !ok {
		return User{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	i, ok := s.data.find(uid)
	if !ok {
		return User{}, false
	}
	return s.data.user(i), true
}

// Update gives n records, chosen at random (reproducibly for the Seed), a
// new company, a new job and one new updatedAt later than every other, and
// returns them as updated, in (updatedAt, id) order. n larger than the
// dataset updates every record.
func (s *Server) Update(n int) []User {
	return s.mutate(n, 0)
}

// Insert adds n new records, created and updated at one time later than
// every other updatedAt, and returns them in (updatedAt, id) order.
func (s *Server) Insert(n int) []User {
	return s.mutate(0, n)
}

func (s *Server) mutate(n, m int) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, updated := s.data.mutate(n, m)
	s.stats.updated.Add(int64(updated))
	s.stats.inserted.Add(int64(len(idx) - updated))
	return s.data.users(idx)
}

// Stats counts what a Server has done since New.
type Stats struct {
	// Requests is every request received.
	Requests int64
	// OK is the 200 responses written in full.
	OK int64
	// BadRequests is the 4xx responses to invalid requests (400, 404,
	// 405); injected 429s are counted in Throttled.
	BadRequests int64
	// Errors is the injected error statuses.
	Errors int64
	// Throttled is the injected 429 responses.
	Throttled int64
	// Dropped is the responses cut off mid-body.
	Dropped int64
	// Slowed is the responses whose body trickled out.
	Slowed int64
	// Capped is the pages served smaller than asked by PageSizeCap.
	Capped int64
	// Updated and Inserted count the records changed by mutations.
	Updated, Inserted int64
}

type counters struct {
	requests, ok, bad, errors, throttled, dropped, slowed, capped, updated, inserted atomic.Int64
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Requests:    c.requests.Load(),
		OK:          c.ok.Load(),
		BadRequests: c.bad.Load(),
		Errors:      c.errors.Load(),
		Throttled:   c.throttled.Load(),
		Dropped:     c.dropped.Load(),
		Slowed:      c.slowed.Load(),
		Capped:      c.capped.Load(),
		Updated:     c.updated.Load(),
		Inserted:    c.inserted.Load(),
	}
}

// ServeHTTP serves one request: it draws the request's faults, waits out
// the latency, answers an injected error if one was drawn, applies a due
// mutation, then serves the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.stats.requests.Add(1)
	f := s.plan()
	if !sleep(r.Context(), f.latency) {
		return
	}
	if m := s.cfg.Mutate; m.Every > 0 && f.n%uint64(m.Every) == 0 {
		s.mutate(m.Updates, m.Inserts)
	}
	switch {
	case f.throttle:
		s.stats.throttled.Add(1)
		w.Header().Set("Retry-After", strconv.FormatInt(s.cfg.retryAfterSeconds(), 10))
		s.writeError(w, http.StatusTooManyRequests, "Too many requests")
		return
	case f.status == http.StatusBadGateway:
		// As from a proxy in front of the API: not JSON.
		s.stats.errors.Add(1)
		h := w.Header()
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(badGatewayHTML)))
		w.WriteHeader(f.status)
		io.WriteString(w, badGatewayHTML)
		return
	case f.status != 0:
		s.stats.errors.Add(1)
		s.writeError(w, f.status, http.StatusText(f.status))
		return
	}

	if r.URL.Path == PathToken {
		s.serveToken(w, r)
		return
	}
	if !s.authorized(w, r) {
		return
	}
	h, ok := routes[r.URL.Path]
	if !ok {
		h, ok = relatedRoute(r.URL.Path)
	}
	if !ok {
		h, ok = queryRoute(r.URL.Path)
	}
	post := false
	if !ok {
		h, ok = postRoutes[r.URL.Path]
		post = ok
	}
	if !ok {
		s.stats.bad.Add(1)
		s.writeError(w, http.StatusNotFound, "Not found")
		return
	}
	allow := "GET, HEAD"
	if post {
		allow = "POST"
	}
	if post && r.Method != http.MethodPost || !post && r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.stats.bad.Add(1)
		w.Header().Set("Allow", allow)
		s.writeError(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	bp := s.bufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 1<<20 {
			s.bufs.Put(bp)
		}
	}()
	body, err := h(s, w, r, (*bp)[:0])
	*bp = body[:0]
	if err != nil { // a badRequest or a notFound: handlers fail on nothing else
		s.stats.bad.Add(1)
		status := http.StatusBadRequest
		if _, ok := err.(notFound); ok {
			status = http.StatusNotFound
		}
		if e, ok := err.(sfError); ok {
			e.write(s, w)
			return
		}
		s.writeError(w, status, err.Error())
		return
	}
	s.send(w, r, body, f)
}

const badGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"

// writeError writes {"error": msg} with status.
func (s *Server) writeError(w http.ResponseWriter, status int, msg string) {
	b := append(appendString(append(make([]byte, 0, 64+len(msg)), `{"error":`...), msg), "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
