package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// TestTimeoutFlag runs the flagship against a server that accepts
// connections and never answers: with -timeout 200ms and two attempts it
// fails in well under a second, saying it timed out.
func TestTimeoutFlag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	defer func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	}()
	cfg := config{
		Flags: console.Flags{
			URL:     "http://" + ln.Addr().String() + "/pagination/page_number",
			DB:      filepath.Join(t.TempDir(), "warehouse.db"),
			PerPage: 50, Concurrency: 4,
			Timeout: 200 * time.Millisecond,
		},
		Retry: paginate.Retry{MaxAttempts: 2, BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }},
	}
	start := time.Now()
	var stdout, stderr bytes.Buffer
	_, err = run(context.Background(), cfg, &stdout, &stderr)
	if !errors.Is(err, strategies.ErrTimeout) {
		t.Fatalf("run error = %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("run took %v", took)
	}
}
