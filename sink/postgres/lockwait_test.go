package postgres_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/postgres"
)

// TestWaitDeadlineLeavesTheSinkUsable ends a Config.Wait sink's wait for a
// stream's lock with a context deadline that lands while a poll for the
// lock is on its way to the server and back (a proxy holds every answer
// back for 60ms): the wait fails with the deadline, and the sink, its
// connection included, stays usable, as docs/sinks.md says. The deadline
// is tried at moments spread over several polls, so that most land inside
// one.
func TestWaitDeadlineLeavesTheSinkUsable(t *testing.T) {
	pool, nsp := testDB(t)
	cfg := pool.Config().Copy()
	cfg.ConnConfig.Fallbacks = nil
	proxy := newSlowProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, itoa(int(cfg.ConnConfig.Port))))
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(proxy.ln.Addr().(*net.TCPAddr).Port)
	slow, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()

	ctx := context.Background()
	holder := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
	if err := holder.Lock(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		deadline := 20*time.Millisecond + time.Duration(i)*23*time.Millisecond
		w, err := postgres.New(ctx, slow, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp, Wait: true})
		if err != nil {
			t.Fatal(err)
		}
		proxy.delay.Store(int64(60 * time.Millisecond))
		dctx, cancel := context.WithTimeout(ctx, deadline)
		_, _, err = w.Load(dctx, "users")
		cancel()
		proxy.delay.Store(0)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("deadline after %v: error = %v, want context.DeadlineExceeded", deadline, err)
		}
		// Usable: it answers, and a wait that is not cut short gets the
		// lock once the holder lets go.
		if _, _, err := w.Load(ctx, "orders"); err != nil {
			t.Errorf("deadline after %v: a Load after the wait: %v, want the sink usable", deadline, err)
		}
		w.Close()
	}

	// With the lock free, the deadline lands in the try for the lock or
	// in the load of the checkpoint that follows it.
	for i := range 8 {
		deadline := 15*time.Millisecond + time.Duration(i)*17*time.Millisecond
		w, err := postgres.New(ctx, slow, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp, Wait: true})
		if err != nil {
			t.Fatal(err)
		}
		proxy.delay.Store(int64(60 * time.Millisecond))
		dctx, cancel := context.WithTimeout(ctx, deadline)
		_, _, err = w.Load(dctx, "events")
		cancel()
		proxy.delay.Store(0)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("free lock, deadline after %v: error = %v, want nil or context.DeadlineExceeded", deadline, err)
		}
		if _, _, err := w.Load(ctx, "events"); err != nil {
			t.Errorf("free lock, deadline after %v: a Load after: %v, want the sink usable", deadline, err)
		}
		w.Close()
	}
}
