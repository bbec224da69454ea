// Package connectortest checks that a connector of many streams loses
// nothing when its process dies: [EveryCommit] runs a connector, simulates a
// kill -9 right after each of its commits in turn, resumes it, and checks
// that the destinations end up holding exactly the source's data.
//
// A simulated kill is a [Crash] shared by the connector's destinations,
// wrapped with [Wrap]: the commit that reaches the crash lands, and every
// later commit and checkpoint save fails, so that the destinations keep
// exactly what was durable at that moment, as after a real kill.
//
//	connectortest.EveryCommit(t, func(t *testing.T, crash *connectortest.Crash) connectortest.Run {
//		users := memory.New(userMapping, memory.Config[User]{})
//		orders := memory.New(orderMapping, memory.Config[Order]{})
//		return connectortest.Run{
//			Connector: func(t *testing.T) *connector.Connector {
//				return myConnector(t, connectortest.Wrap(crash, users), connectortest.Wrap(crash, orders))
//			},
//			Check: func(t *testing.T) { compare(t, api, users.Rows(), orders.Rows()) },
//		}
//	})
package connectortest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/internal/forward"
	"github.com/pagekit/pagekit/paginate"
)

// ErrCrash is what every commit and save returns once a [Crash] happened.
var ErrCrash = errors.New("connectortest: simulated crash")

// Crash counts the commits of the destinations it wraps and simulates a
// kill after a chosen one. It is safe for concurrent use; its zero value
// counts and never crashes.
type Crash struct {
	mu      sync.Mutex
	after   int
	n       int
	crashed bool
	cancel  context.CancelFunc
}

// Arm makes the n-th commit from now the last that lands, and calls cancel
// right after it; 0 disarms. Arm also clears a crash that happened.
func (c *Crash) Arm(n int, cancel context.CancelFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.after, c.n, c.crashed, c.cancel = n, 0, false, cancel
}

// Commits returns the commits and saves that landed since the last Arm.
func (c *Crash) Commits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Crashed reports whether the crash happened.
func (c *Crash) Crashed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.crashed
}

// land reports whether a commit may land, and counts it.
func (c *Crash) land() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return ErrCrash
	}
	c.n++
	if c.after > 0 && c.n >= c.after {
		c.crashed = true
		if c.cancel != nil {
			c.cancel()
		}
	}
	return nil
}

// A Destination is what a connector's stream writes to and keeps its
// checkpoints in: a sink that commits each page with its checkpoint, such as
// the memory, SQLite and PostgreSQL sinks.
type Destination[T any] interface {
	paginate.Sink[T]
	paginate.Committer[T]
	paginate.Store
}

// Crashing is a Destination behind a Crash, as [Wrap] returns it. It keeps
// what the destination offers the runner and the connector besides
// committing, as the destination would without it: the keys of a sync in
// progress (paginate.KeyStore), its identity, its stream locks and whether
// it restarts streams saved by other settings (paginate.RestartingStore),
// and,
// when the destination has them, its records' key (paginate.Keyer) and its
// table (connector.Tabler), so that a run behind a Crash has the drift
// detection it has without one.
type Crashing[T any] interface {
	Destination[T]
	paginate.KeyStore
	paginate.RestartingStore
	paginate.Identifier
	connector.Unlocker
}

// crashing is the Crashing that Wrap returns, with the destination's Key
// and Table added by package forward when it has them.
type crashing[T any] struct {
	dst   Destination[T]
	crash *Crash
}

// Wrap returns dst behind crash.
func Wrap[T any](crash *Crash, dst Destination[T]) Crashing[T] {
	return forward.Sink[T](&crashing[T]{dst: dst, crash: crash}, dst)
}

// Write writes items unless the crash happened.
func (c *crashing[T]) Write(ctx context.Context, items []T) error {
	if err := c.crash.land(); err != nil {
		return err
	}
	return c.dst.Write(ctx, items)
}

// Commit commits items and cp unless the crash happened.
func (c *crashing[T]) Commit(ctx context.Context, items []T, cp paginate.Checkpoint) error {
	if err := c.crash.land(); err != nil {
		return err
	}
	return c.dst.Commit(ctx, items, cp)
}

// Save saves cp unless the crash happened.
func (c *crashing[T]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	if err := c.crash.land(); err != nil {
		return err
	}
	return c.dst.Save(ctx, cp)
}

// SaveKeys keeps the keys of a page of stream's sync in the destination,
// when it keeps keys (see paginate.KeyStore), unless the crash happened.
func (c *crashing[T]) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	ks, ok := c.dst.(paginate.KeyStore)
	if !ok {
		return nil
	}
	if c.crash.Crashed() {
		return ErrCrash
	}
	return ks.SaveKeys(ctx, stream, items, keys)
}

// LoadKeys returns the keys of stream's sync that the destination keeps,
// if it keeps keys.
func (c *crashing[T]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	return forward.LoadKeys(ctx, c.dst, stream, upTo)
}

// Load loads the checkpoint of stream.
func (c *crashing[T]) Load(ctx context.Context, stream string) (paginate.Checkpoint, bool, error) {
	return c.dst.Load(ctx, stream)
}

// Unlock releases the destination's lock of stream, when it locks streams.
func (c *crashing[T]) Unlock(ctx context.Context, stream string) error {
	return forward.Unlock(ctx, c.dst, stream)
}

// RestartsStreams is the destination's (see paginate.RestartingStore).
func (c *crashing[T]) RestartsStreams() bool { return forward.RestartsStreams(c.dst) }

// Identity is the destination's, so that checkpoints carry it.
func (c *crashing[T]) Identity() paginate.Identity { return forward.Identity(c.dst) }

// Run is one scenario of EveryCommit: fresh, empty destinations behind a
// Crash, a connector over them, and the check of what they hold.
type Run struct {
	// Connector returns a connector over the scenario's destinations. It
	// is called for every run, as a new process builds its connector.
	Connector func(t *testing.T) *connector.Connector
	// Check fails t unless the destinations hold exactly the source's
	// data, such as with a go-cmp diff of their rows.
	Check func(t *testing.T)
	// Streams are the streams each run syncs; empty means all.
	Streams []string
}

// EveryCommit checks that a kill after any commit loses nothing. It runs
// a scenario of fresh returns once to count the commits of a full sync and
// check its result; then, for each commit k of that count, a fresh
// scenario crashed right after its k-th commit, resumed by runs until one
// completes (at most 5), and checked. fresh must build empty destinations
// wrapped with the Crash it is given, over a source that does not change.
func EveryCommit(t *testing.T, fresh func(t *testing.T, crash *Crash) Run) {
	t.Helper()
	crash := new(Crash)
	r := fresh(t, crash)
	res, err := r.Connector(t).Run(t.Context(), r.Streams...)
	if err != nil || !res.Complete() {
		t.Fatalf("connectortest: the full sync did not complete: %v", err)
	}
	commits := crash.Commits()
	r.Check(t)
	if t.Failed() {
		t.Fatal("connectortest: a full sync without a crash does not match the source")
	}
	for k := 1; k <= commits; k++ {
		t.Run(fmt.Sprintf("crash-after-commit-%d", k), func(t *testing.T) {
			crash := new(Crash)
			r := fresh(t, crash)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			crash.Arm(k, cancel)
			if _, err := r.Connector(t).Run(ctx, r.Streams...); err != nil && !errors.Is(err, ErrCrash) && !errors.Is(err, context.Canceled) {
				t.Fatalf("the run crashed after commit %d failed otherwise: %v", k, err)
			}
			crash.Arm(0, nil)
			for run := 1; ; run++ {
				res, err := r.Connector(t).Run(t.Context(), r.Streams...)
				if err == nil && res.Complete() {
					break
				}
				if run == 5 {
					t.Fatalf("no resumed run completed in 5: %v", err)
				}
			}
			r.Check(t)
		})
	}
}
