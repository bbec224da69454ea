package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"riverqueue.com/riverui"
)

// serveUI serves River's web UI (riverqueue.com/riverui) for client at
// addr, under /riverui/: each partition's job, its state, attempts and
// errors. addr must be a loopback address: the UI has no login, and it
// can cancel, retry and delete jobs. It returns a function that stops it.
func serveUI[TTx any](ctx context.Context, addr string, client *river.Client[TTx], logger *slog.Logger, w io.Writer) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-ui %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-ui %q: serve River's UI on a loopback address, such as 127.0.0.1:8080: it has no login, and it can cancel and delete jobs", addr)
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger,
		Prefix:    "/riverui",
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	if err := h.Start(ctx); err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cancel()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/riverui/", h)
	mux.Handle("/{$}", http.RedirectHandler("/riverui/", http.StatusFound))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("River UI", "error", err)
		}
	}()
	fmt.Fprintf(w, "River UI at http://%s/riverui/\n", ln.Addr())
	return func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		<-served
		cancel()
	}, nil
}
