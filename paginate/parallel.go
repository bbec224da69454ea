package paginate

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// fetchPlanned fetches the planned positions with up to Concurrency fetches
// at once and sends the pages to ch strictly in plan order. At most twice
// Concurrency pages are in flight or waiting for their turn, so memory stays
// bounded however long the plan is; and since pages reach the committing side
// in order, the checkpoint only ever advances over a gap-free prefix.
//
// It returns the position to go on from sequentially and true when the plan
// ran out or a page's Next disagreed with the plan (a server that capped its
// page size midway, say); false when the run is over: last page, error,
// limit, or ctx done. n counts the run's pages and is advanced per page sent.
func (r *runner[T]) fetchPlanned(ctx context.Context, plan []Position, n *int, lp *loopGuard[T], ch chan<- fetched[T]) (Position, bool) {
	conc := r.opts.concurrency()
	window := 2 * conc
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	// slots[i%window] carries page i; page i+window cannot start before
	// page i has been sent on, so a slot is never shared.
	slots := make([]chan fetched[T], window)
	room := make(chan struct{}, window)
	for i := range slots {
		slots[i] = make(chan fetched[T], 1)
		room <- struct{}{}
	}
	inflight := semaphore.NewWeighted(int64(conc))
	// failed is the lowest plan index whose fetch failed, so that no page
	// beyond it is started.
	var failed atomic.Int64
	failed.Store(int64(len(plan)))

	wg.Add(1)
	go func() {
		defer wg.Done()
		for i, pos := range plan {
			select {
			case <-room:
			case <-ctx.Done():
				return
			}
			if int64(i) > failed.Load() || inflight.Acquire(ctx, 1) != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer inflight.Release(1)
				page, err := r.fetch(ctx, pos)
				if err != nil {
					for {
						f := failed.Load()
						if int64(i) >= f || failed.CompareAndSwap(f, int64(i)) {
							break
						}
					}
				}
				slots[i%window] <- fetched[T]{pos: pos, page: page, err: err}
			}()
		}
	}()

	for i := range plan {
		var f fetched[T]
		select {
		case f = <-slots[i%window]:
		case <-ctx.Done():
			return Position{}, false
		}
		*n++
		if f.err == nil {
			f.err = lp.position(f.pos, *n)
		}
		if f.err == nil {
			f.err = lp.page(f.pos, *n, f.page.Items)
		}
		if !send(ctx, ch, f) {
			return Position{}, false
		}
		room <- struct{}{}
		if f.err != nil || !f.page.More || r.maxPages(*n) {
			return Position{}, false
		}
		next := f.page.Next
		next.Since = f.pos.Since
		if i+1 == len(plan) || next != plan[i+1] {
			return next, true
		}
	}
	return Position{}, false
}
