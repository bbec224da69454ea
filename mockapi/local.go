package mockapi

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Local is a mock API served over HTTP on a free port of 127.0.0.1, inside
// the calling process, so that a program (an example connector, a
// benchmark) needs no server started beside it. Its embedded [Server] gives
// the dataset, [Server.Update], [Server.Insert] and [Server.Stats].
type Local struct {
	*Server
	// URL is the base URL, such as "http://127.0.0.1:41234"; add a path
	// such as PathPageNumber.
	URL string

	srv    *http.Server
	served chan error
}

// Start builds the mock API of cfg and serves it on a free port of
// 127.0.0.1 until Close. A Mutate with Every set and neither Updates nor
// Inserts updates one record and inserts one. A cfg that
// [Config.Validate] rejects is an error, not a panic.
func Start(cfg Config) (*Local, error) {
	if cfg.Mutate.Every > 0 && cfg.Mutate.Updates == 0 && cfg.Mutate.Inserts == 0 {
		cfg.Mutate.Updates, cfg.Mutate.Inserts = 1, 1
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("mockapi: %w", err)
	}
	api := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mockapi: %w", err)
	}
	l := &Local{
		Server: api,
		URL:    "http://" + ln.Addr().String(),
		srv:    &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second},
		served: make(chan error, 1),
	}
	go func() { l.served <- l.srv.Serve(ln) }()
	return l, nil
}

// Close stops the server at once, closing the connections still open, and
// waits for it to stop.
func (l *Local) Close() error {
	err := l.srv.Close()
	if serr := <-l.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
