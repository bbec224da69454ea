package connector_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
)

// TestCrashAtEveryCommit runs a connector of a stream and its child
// stream, simulates a kill -9 after each commit of a full sync in turn (the
// commit lands, nothing after it does), and resumes: every table must end
// equal to the mock's data, whatever the commit the crash followed.
func TestCrashAtEveryCommit(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 30, Seed: 11, Events: -1}, nil)
	build := func(t *testing.T) *connector.Connector {
		lim := connector.NewLimiter(connector.Limits{InFlight: 4})
		users, orders, _ := e.streams(streamOpts{limiter: lim, perPage: 7})
		c, err := connector.New(connector.Config{Limiter: lim, Runs: 4}, users, orders)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	// A clean sync counts the commits (pages, checkpoints, list states).
	e.fresh()
	count := &crash{}
	e.setCrash(count)
	if _, err := build(t).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	commits := count.n
	e.checkTables(t)
	t.Logf("a full sync makes %d commits", commits)

	for k := 1; k <= commits; k++ {
		e.fresh()
		ctx, cancel := context.WithCancel(t.Context())
		e.setCrash(&crash{after: k, cancel: cancel})
		_, err := build(t).Run(ctx)
		cancel()
		if err != nil && !errors.Is(err, errCrash) && !errors.Is(err, context.Canceled) {
			t.Fatalf("crash after commit %d: Run: %v", k, err)
		}
		e.setCrash(nil)
		res, err := build(t).Run(t.Context())
		if err != nil || !res.Complete() {
			t.Fatalf("crash after commit %d: resumed Run: %v (%+v)", k, err, res)
		}
		e.checkTables(t)
		if t.Failed() {
			t.Fatalf("crash after commit %d: the resumed sync did not end with the mock's data", k)
		}
	}
}
