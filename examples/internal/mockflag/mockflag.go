// Package mockflag runs the mock API of package
// github.com/pagekit/pagekit/mockapi inside an example's process, configured
// by command-line flags, so that every example works with no server to start.
package mockflag

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/pagekit/pagekit/mockapi"
)

// Register defines the flags of the in-process mock API on fs: the size of
// the dataset and the faults to inject. It returns the Config they fill.
func Register(fs *flag.FlagSet) *mockapi.Config {
	cfg := new(mockapi.Config)
	fs.IntVar(&cfg.Records, "records", 200, "in-process mock: number of records")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "in-process mock: seed of the dataset and of the faults")
	fs.DurationVar(&cfg.Latency, "latency", 0, "in-process mock: delay before every response")
	fs.DurationVar(&cfg.LatencyJitter, "latency-jitter", 0, "in-process mock: extra random delay in [0, jitter) before every response")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "in-process mock: fraction of requests answered 500, 502 or 503")
	fs.Float64Var(&cfg.ThrottleRate, "throttle-rate", 0, "in-process mock: chance a request starts a burst of 429s")
	fs.DurationVar(&cfg.RetryAfter, "retry-after", time.Second, "in-process mock: delay a 429 asks for (whole seconds; negative sends 0)")
	fs.Float64Var(&cfg.DropRate, "drop-rate", 0, "in-process mock: fraction of responses cut off mid-body")
	fs.IntVar(&cfg.PageSizeCap, "page-cap", 0, "in-process mock: serve at most this many records a page (0: no cap)")
	fs.IntVar(&cfg.Mutate.Every, "mutate-every", 0, "in-process mock: update one record and insert one every this many requests (0: never)")
	return cfg
}

// Server is a mock API listening on a free port of 127.0.0.1.
type Server struct {
	// URL is the server's base URL, such as "http://127.0.0.1:41234"; add
	// a path such as mockapi.PathPageNumber.
	URL string
	// API is the mock itself, for its dataset and its counters.
	API *mockapi.Server

	srv    *http.Server
	served chan error
}

// Start builds the mock API of cfg and serves it on a free port of
// 127.0.0.1 until Close.
func Start(cfg mockapi.Config) (*Server, error) {
	if cfg.Mutate.Every > 0 && cfg.Mutate.Updates == 0 && cfg.Mutate.Inserts == 0 {
		cfg.Mutate.Updates, cfg.Mutate.Inserts = 1, 1
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mock API: %w", err)
	}
	api := mockapi.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mock API: %w", err)
	}
	s := &Server{
		URL:    "http://" + ln.Addr().String(),
		API:    api,
		srv:    &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second},
		served: make(chan error, 1),
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server at once, closing connections still open.
func (s *Server) Close() error {
	err := s.srv.Close()
	if serr := <-s.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
