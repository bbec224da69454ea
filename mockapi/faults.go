package mockapi

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// faults is what happens to one request.
type faults struct {
	n        uint64 // 1-based request number
	latency  time.Duration
	throttle bool    // answer 429
	status   int     // answer this error status, if not zero
	drop     float64 // if > 0, close the connection after this fraction of the body
	slow     bool    // trickle the body
}

// plan numbers the request and draws its faults. The draws for request n
// come from a PCG seeded with (Seed, n), always the same draws in the same
// order whatever the rates, so a given sequence of requests meets the same
// faults in every run, and changing one rate does not move another fault.
func (s *Server) plan() faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.requests++
	c := &s.cfg
	var r rand.PCG
	r.Seed(c.Seed^saltFault, s.requests)
	var (
		jitter   = unit(&r)
		throttle = unit(&r)
		fail     = unit(&r)
		code     = pick(&r, len(c.ErrorCodes))
		drop     = unit(&r)
		cut      = unit(&r)
		slow     = unit(&r)
	)
	f := faults{n: s.requests, latency: c.Latency}
	if c.LatencyJitter > 0 {
		f.latency += time.Duration(jitter * float64(c.LatencyJitter))
	}
	switch {
	case s.burstLeft > 0:
		s.burstLeft--
		f.throttle = true
	case throttle < c.ThrottleRate:
		s.burstLeft = c.throttleBurst() - 1
		f.throttle = true
	}
	if !f.throttle && fail < c.ErrorRate {
		f.status = c.ErrorCodes[code]
	}
	if drop < c.DropRate {
		f.drop = 0.1 + 0.8*cut
	} else if slow < c.SlowRate {
		f.slow = true
	}
	return f
}

// unit returns a number in [0, 1) from r.
func unit(r *rand.PCG) float64 {
	return float64(r.Uint64()>>11) / (1 << 53)
}

// sleep waits for d, or until ctx is done; it reports whether it waited
// for d.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// send writes a 200 response with body, dropping the connection mid-body
// or trickling the body if f says so. The Content-Length is always the
// full body's, so a cut body is detectably short.
func (s *Server) send(w http.ResponseWriter, r *http.Request, body []byte, f faults) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	switch {
	case f.drop > 0:
		s.stats.dropped.Add(1)
		w.Write(body[:int(float64(len(body))*f.drop)])
		rc.Flush()
		conn, _, err := rc.Hijack()
		if err != nil {
			// HTTP/2, or a writer that cannot hijack: the server resets
			// the stream or closes the connection instead.
			panic(http.ErrAbortHandler)
		}
		conn.Close()
	case f.slow:
		s.stats.slowed.Add(1)
		chunk, delay := s.cfg.slowChunk(), s.cfg.slowDelay()
		for len(body) > 0 {
			n := min(chunk, len(body))
			if _, err := w.Write(body[:n]); err != nil {
				return
			}
			body = body[n:]
			if err := rc.Flush(); err != nil {
				return
			}
			if len(body) > 0 && !sleep(r.Context(), delay) {
				return
			}
		}
		s.stats.ok.Add(1)
	default:
		if _, err := w.Write(body); err == nil {
			s.stats.ok.Add(1)
		}
	}
}
