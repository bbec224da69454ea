package paginate

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// fetchPlanned fetches the planned positions with up to Concurrency fetches
// at once and sends the pages to ch strictly in plan order. At most twice
// Concurrency pages are in flight or waiting for their turn, and the plan is
// consumed lazily, so memory stays bounded however long the plan is; and
// since pages reach the committing side in order, the checkpoint only ever
// advances over a gap-free prefix.
//
// expect is the Next of the page before the plan. fetchPlanned returns the
// position to go on from sequentially and true when the plan ran out or
// disagreed with a page's Next (a server that capped its page size midway,
// say); false when the run is over: last page, error, limit, or ctx done.
// n counts the run's pages and is advanced per page sent.
func (r *runner[T]) fetchPlanned(ctx context.Context, plan iter.Seq[Position], expect Position, n *int, lp *loopGuard[T], ch chan<- fetched[T]) (Position, bool) {
	conc := r.opts.concurrency()
	window := 2 * conc
	since := expect.Since
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
	failed.Store(1<<62 - 1)
	// launched is the number of pages started, final once launchDone is
	// closed.
	var launched atomic.Int64
	launchDone := make(chan struct{})
	limit := -1
	if r.opts.MaxPages > 0 {
		limit = r.opts.MaxPages - *n
	}

	var launchPanic atomic.Pointer[panicError]
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(launchDone)
		defer func() {
			if v := recover(); v != nil { // in the Planner's sequence
				launchPanic.Store(newPanicError(v))
			}
		}()
		i := 0
		for pos := range plan {
			if i == limit {
				return
			}
			pos.Since = since
			select {
			case <-room:
			case <-ctx.Done():
				return
			}
			if int64(i) > failed.Load() || inflight.Acquire(ctx, 1) != nil {
				return
			}
			idx := i
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer inflight.Release(1)
				var (
					page Page[T]
					err  error
				)
				func() {
					defer func() {
						if v := recover(); v != nil {
							err = newPanicError(v)
						}
					}()
					page, err = r.fetch(ctx, pos)
				}()
				if err != nil {
					for f := failed.Load(); int64(idx) < f && !failed.CompareAndSwap(f, int64(idx)); f = failed.Load() {
					}
				}
				slots[idx%window] <- fetched[T]{pos: pos, page: page, err: err}
			}()
			i++
			launched.Store(int64(i))
		}
	}()

	for i := 0; ; i++ {
		var f fetched[T]
		select {
		case f = <-slots[i%window]:
		case <-launchDone:
			if pe := launchPanic.Load(); pe != nil {
				send(ctx, ch, fetched[T]{err: pe})
				return Position{}, false
			}
			if int64(i) >= launched.Load() {
				return expect, true
			}
			select {
			case f = <-slots[i%window]:
			case <-ctx.Done():
				return Position{}, false
			}
		case <-ctx.Done():
			return Position{}, false
		}
		if f.pos != expect {
			// The plan and the server disagree: drop this page and the
			// rest of the plan, and go on from the server's word.
			return expect, true
		}
		*n++
		if f.err == nil {
			f.err = lp.position(f.pos, *n)
		}
		if f.err == nil {
			f = checked(lp, f.pos, *n, f.page)
		}
		if !send(ctx, ch, f) {
			return Position{}, false
		}
		room <- struct{}{}
		if f.err != nil || !f.page.More || r.maxPages(*n) {
			return Position{}, false
		}
		expect = f.page.Next
		expect.Since = since
	}
}
