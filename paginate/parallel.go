package paginate

import (
	"context"
	"iter"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
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
	since := expect.Since
	ctx, cancel := context.WithCancel(ctx)
	// The group runs the launcher and up to conc fetches at once.
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(conc + 1)
	defer func() {
		cancel()
		g.Wait()
	}()

	// order carries each launched page's result channel, in plan order:
	// that is the ordering. Its capacity bounds the pages launched and not
	// yet sent on to 2*conc, with the one being waited for.
	order := make(chan chan fetched[T], 2*conc-1)
	// failed is the lowest plan index whose fetch failed, so that no page
	// beyond it is started.
	var failed atomic.Int64
	failed.Store(1<<62 - 1)
	limit := -1
	if r.opts.Limits.MaxPages > 0 {
		limit = r.opts.Limits.MaxPages - *n
	}
	var launchPanic *panicError // set before order is closed
	g.Go(func() error {
		defer close(order)
		defer func() {
			if v := recover(); v != nil { // in the Planner's sequence
				launchPanic = newPanicError(v)
			}
		}()
		i := 0
		for pos := range plan {
			if i == limit || int64(i) > failed.Load() {
				return nil
			}
			pos.Since = since
			done := make(chan fetched[T], 1)
			select {
			case order <- done:
			case <-ctx.Done():
				return nil
			}
			idx := int64(i)
			g.Go(func() error {
				page, err := r.fetchRecovered(ctx, pos)
				if err != nil {
					for f := failed.Load(); idx < f && !failed.CompareAndSwap(f, idx); f = failed.Load() {
					}
				}
				done <- fetched[T]{pos: pos, page: page, err: err}
				return nil
			})
			i++
		}
		return nil
	})

	for {
		var (
			done chan fetched[T]
			f    fetched[T]
			ok   bool
		)
		select {
		case done, ok = <-order:
		case <-ctx.Done():
			return Position{}, false
		}
		if !ok {
			if launchPanic != nil {
				r.send(ctx, ch, fetched[T]{err: launchPanic})
				return Position{}, false
			}
			return expect, true
		}
		select {
		case f = <-done:
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
		if !r.send(ctx, ch, f) {
			return Position{}, false
		}
		if f.err != nil || !f.page.More || r.maxPages(*n) {
			return Position{}, false
		}
		expect = f.page.Next
		expect.Since = since
	}
}

// fetchRecovered fetches the page at pos, turning a panic in the
// paginator into an error for the caller's goroutine.
func (r *runner[T]) fetchRecovered(ctx context.Context, pos Position) (page Page[T], err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(v)
		}
	}()
	return r.fetch(ctx, pos)
}
