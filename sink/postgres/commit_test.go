package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/postgres"
)

// slowProxy forwards TCP connections to a PostgreSQL server on
// 127.0.0.1, holding back what the server sends while delay is set: the
// server has done its work, the client does not know it yet.
type slowProxy struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // nanoseconds
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newSlowProxy(t *testing.T, target string) *slowProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &slowProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// cut closes every connection open through the proxy, as a network
// failure would.
func (p *slowProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *slowProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			io.Copy(s, c)
			s.Close()
		}()
		go func() {
			defer p.wg.Done()
			defer c.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if d := p.delay.Load(); d > 0 && n > 0 {
					time.Sleep(time.Duration(d))
				}
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// TestCommitOutcomeOnCancel cancels a Commit while its page is in flight,
// after the server received it: the error Commit reports must match what
// the database holds, page and checkpoint (a page whose first statement
// was sent runs to its end, so each of these commits). A page small enough to go in
// one pipelined round trip, and one large enough for COPY, are each
// cancelled at several moments.
func TestCommitOutcomeOnCancel(t *testing.T) {
	pool, nsp := testDB(t)
	cfg := pool.Config().Copy()
	cfg.ConnConfig.Fallbacks = nil
	proxy := newSlowProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, itoa(int(cfg.ConnConfig.Port))))
	addr := proxy.ln.Addr().(*net.TCPAddr)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(addr.Port)
	slow, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()

	page := 1
	for _, tc := range []struct {
		rows   int
		cancel []time.Duration
	}{
		{10, []time.Duration{20 * time.Millisecond, 150 * time.Millisecond}},
		// COPY takes five round trips (BEGIN, COPY, INSERT, checkpoint,
		// COMMIT), 100ms each through the proxy: cancel in each.
		{4000, []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, 450 * time.Millisecond, 550 * time.Millisecond, 650 * time.Millisecond}},
	} {
		rows := tc.rows
		for _, cancelAfter := range tc.cancel {
			page++
			// Wait: the session of the last round may still hold the lock
			// while the server notices it is gone.
			s, err := postgres.New(context.Background(), slow, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp, Wait: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Lock(context.Background(), "users"); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			proxy.delay.Store(int64(100 * time.Millisecond))
			time.AfterFunc(cancelAfter, cancel)
			cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: int64(page)}}
			err = s.Commit(ctx, usertest.Generate(rows, uint64(page)), cp)
			proxy.delay.Store(0)
			cancel()
			s.Close()

			var stored int64
			if err := pool.QueryRow(context.Background(), `SELECT (checkpoint->'position'->>'page')::bigint FROM "`+nsp+`"._pagekit_state WHERE stream = 'users'`).Scan(&stored); err != nil && page > 2 {
				t.Fatal(err)
			}
			committed := stored == int64(page)
			t.Logf("%d rows, cancel after %v: committed %v, error %v", rows, cancelAfter, committed, err)
			if committed != (err == nil) {
				t.Errorf("%d rows, cancel after %v: the database holds the page: %v, but Commit returned %v", rows, cancelAfter, committed, err)
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%d rows, cancel after %v: error %v, want one that says the context was cancelled", rows, cancelAfter, err)
			}
			if rows == 10 && err != nil {
				t.Errorf("a page sent in one round trip was not committed: %v (the cancel must not abandon it)", err)
			}
		}
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestCommitOutcomeOnConnectionLoss cuts the connection after the server
// committed a page and before the client heard of it: the sink finds out
// from the database that the page is in, and says so.
func TestCommitOutcomeOnConnectionLoss(t *testing.T) {
	pool, nsp := testDB(t)
	cfg := pool.Config().Copy()
	proxy := newSlowProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, itoa(int(cfg.ConnConfig.Port))))
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(proxy.ln.Addr().(*net.TCPAddr).Port)
	cfg.ConnConfig.Fallbacks = nil
	slow, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	s, err := postgres.New(context.Background(), slow, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Lock(context.Background(), "users"); err != nil {
		t.Fatal(err)
	}
	proxy.delay.Store(int64(300 * time.Millisecond))
	time.AfterFunc(100*time.Millisecond, func() { proxy.delay.Store(0); proxy.cut() })
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 9}}
	err = s.Commit(context.Background(), usertest.Generate(10, 9), cp)
	var stored int64
	if qerr := pool.QueryRow(context.Background(), `SELECT (checkpoint->'position'->>'page')::bigint FROM "`+nsp+`"._pagekit_state WHERE stream = 'users'`).Scan(&stored); qerr != nil {
		t.Fatal(qerr)
	}
	if stored != 9 || err != nil {
		t.Errorf("the database holds page %d; Commit returned %v; want page 9 and no error", stored, err)
	}
	// The connection is gone all the same: the sink says so next time.
	if err := s.Commit(context.Background(), nil, cp); !errors.Is(err, postgres.ErrConnLost) {
		t.Errorf("next Commit: %v, want ErrConnLost", err)
	}
}
