package paginate_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pagekit/pagekit/paginate"
)

// step is one scripted page: what Fetch returns for a position.
type step struct {
	items []string
	next  paginate.Position
	more  bool
	stop  paginate.StopReason
	// highWater is the page's own mark (Page.HighWater).
	highWater string
	// errs are returned by the first len(errs) attempts, in order.
	errs []error
	// delay is how long each attempt takes (use inside synctest bubbles).
	delay time.Duration
}

// script is a Paginator whose pages are keyed by position. It records every
// position requested, in order.
type script struct {
	mu       sync.Mutex
	steps    map[paginate.Position]*step
	attempts map[paginate.Position]int
	calls    []paginate.Position
	// block, when set, makes the fetch of that position wait for ctx.
	block *paginate.Position
}

func newScript(steps map[paginate.Position]*step) *script {
	return &script{steps: steps, attempts: make(map[paginate.Position]int)}
}

func (s *script) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[string], error) {
	s.mu.Lock()
	s.calls = append(s.calls, pos)
	st, ok := s.steps[paginate.Position{Page: pos.Page, Offset: pos.Offset, Token: pos.Token}]
	n := s.attempts[pos]
	s.attempts[pos]++
	block := s.block != nil && *s.block == pos
	s.mu.Unlock()
	if block {
		<-ctx.Done()
		return paginate.Page[string]{}, ctx.Err()
	}
	if !ok {
		return paginate.Page[string]{}, paginate.Permanent(fmt.Errorf("no page scripted at %v", pos))
	}
	if st.delay > 0 {
		select {
		case <-time.After(st.delay):
		case <-ctx.Done():
			return paginate.Page[string]{}, ctx.Err()
		}
	}
	if n < len(st.errs) && st.errs[n] != nil {
		return paginate.Page[string]{}, st.errs[n]
	}
	return paginate.Page[string]{Items: st.items, Next: st.next, More: st.more, Stop: st.stop, HighWater: st.highWater}, nil
}

func (s *script) requested() []paginate.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]paginate.Position(nil), s.calls...)
}

// linear scripts n pages of size items each, at page numbers 1..n (the
// first at the zero position), items named "p<page>-<i>".
func linear(n, size int) map[paginate.Position]*step {
	steps := make(map[paginate.Position]*step)
	for p := 1; p <= n; p++ {
		st := &step{more: p < n, next: paginate.Position{Page: int64(p + 1)}}
		for i := 0; i < size; i++ {
			st.items = append(st.items, fmt.Sprintf("p%d-%d", p, i))
		}
		pos := paginate.Position{Page: int64(p)}
		if p == 1 {
			pos = paginate.Position{}
		}
		steps[pos] = st
	}
	return steps
}

func itemsOf(steps map[paginate.Position]*step, pages ...int) []string {
	var out []string
	for _, p := range pages {
		pos := paginate.Position{Page: int64(p)}
		if p == 1 {
			pos = paginate.Position{}
		}
		out = append(out, steps[pos].items...)
	}
	return out
}

// retryAfterErr is a retryable error that asks for a delay.
type retryAfterErr time.Duration

func (e retryAfterErr) Error() string             { return fmt.Sprintf("slow down for %v", time.Duration(e)) }
func (e retryAfterErr) RetryAfter() time.Duration { return time.Duration(e) }
