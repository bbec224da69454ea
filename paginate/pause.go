package paginate

import (
	"context"
	"sync"
	"time"
)

// pauseGate holds back every worker of a run until a time the server asked
// for: a 429 seen by one worker slows them all.
type pauseGate struct {
	mu sync.Mutex
	t  time.Time
}

// extend makes every worker wait until at least t.
func (g *pauseGate) extend(t time.Time) {
	g.mu.Lock()
	if t.After(g.t) {
		g.t = t
	}
	g.mu.Unlock()
}

func (g *pauseGate) wait(ctx context.Context) error {
	g.mu.Lock()
	d := time.Until(g.t)
	g.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	return sleep(ctx, d)
}
