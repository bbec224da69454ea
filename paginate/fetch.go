package paginate

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"
)

// fetched is one page, or the error that ended fetching, on its way from
// the fetching side to the committing side.
type fetched[T any] struct {
	pos  Position
	page Page[T]
	err  error
	// repeat marks a page that repeated the one before it and so ended
	// the data: it is not committed again, and the sync's checkpoint is
	// saved as complete, whether err holds the *LoopError that reports it
	// (without Options.Checks.RepeatedPageEnds) or not.
	repeat bool
}

// startFetching starts the fetch side at cp's position, to run up to ahead
// pages ahead of the committing side. It returns the channel of fetched
// pages, closed when fetching ends, and a function that stops fetching and
// waits for it.
func (r *runner[T]) startFetching(ctx context.Context, cp Checkpoint, ahead int) (<-chan fetched[T], func()) {
	fctx, cancel := context.WithCancel(ctx)
	// The fetching goroutine holds one more page while it waits to send.
	ch := make(chan fetched[T], ahead-1)
	if r.roomSize > 0 {
		r.room = semaphore.NewWeighted(r.roomSize)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		// A panic in the user's Fetch, Key or HighWater must reach the
		// caller's goroutine, where it can be recovered, not crash the
		// program from one of ours.
		defer func() {
			if v := recover(); v != nil {
				ch <- fetched[T]{err: newPanicError(v)}
			}
		}()
		r.fetchPages(fctx, cp, ch)
	}()
	return ch, func() {
		cancel()
		for range ch {
		}
		wg.Wait()
	}
}

// fetchPages fetches pages in order from cp's position and sends them to
// ch, until the last page, an error, a limit, or ctx is done. After the
// first page, a Planner's plan is fetched in parallel (see fetchPlanned).
func (r *runner[T]) fetchPages(ctx context.Context, cp Checkpoint, ch chan<- fetched[T]) {
	pos := cp.Position
	since := pos.Since
	lp := newLoopGuard(&r.opts, cp)
	planner, _ := r.p.(Planner)
	if r.opts.concurrency() < 2 {
		planner = nil
	}
	for n := 1; ; n++ {
		f := r.fetchSequential(ctx, pos, n, lp)
		if !r.send(ctx, ch, f) || f.err != nil || !f.page.More || r.maxPages(n) {
			return
		}
		next := f.page.Next
		next.Since = since
		if n == 1 && planner != nil {
			page := &f.page
			plan := planner.Plan(pos, PageInfo{Items: len(page.Items), More: page.More, Next: page.Next,
				TotalItems: page.TotalItems, TotalPages: page.TotalPages})
			if plan != nil {
				var ok bool
				if next, ok = r.fetchPlanned(ctx, plan, next, &n, lp, ch); !ok {
					return
				}
			}
		}
		pos = next
	}
}

func (r *runner[T]) maxPages(n int) bool {
	return r.opts.Limits.MaxPages > 0 && n >= r.opts.Limits.MaxPages
}

// fetchSequential fetches the n-th page of the run, at pos, with loop checks.
func (r *runner[T]) fetchSequential(ctx context.Context, pos Position, n int, lp *loopGuard[T]) fetched[T] {
	if err := lp.position(pos, n); err != nil {
		return fetched[T]{pos: pos, err: err}
	}
	page, err := r.fetch(ctx, pos)
	if err != nil {
		return fetched[T]{pos: pos, err: err}
	}
	return checked(lp, pos, n, page)
}

// checked runs the page checks of the loop guard on the n-th page, at pos.
func checked[T any](lp *loopGuard[T], pos Position, n int, page Page[T]) fetched[T] {
	end, err := lp.page(pos, n, &page)
	switch {
	case end:
		return fetched[T]{pos: pos, page: Page[T]{Stop: StopRepeatedPage}, repeat: true, err: err}
	case err != nil:
		return fetched[T]{pos: pos, err: err}
	}
	return fetched[T]{pos: pos, page: page}
}

// fetch fetches the page at pos under the retry policy. It is safe to call
// from several goroutines.
func (r *runner[T]) fetch(ctx context.Context, pos Position) (Page[T], error) {
	var page Page[T]
	attempts, err := r.retry.do(ctx, pos, func(ctx context.Context) error {
		var ferr error
		page, ferr = r.p.Fetch(ctx, pos)
		return ferr
	})
	if attempts > 1 {
		r.retries.Add(int64(attempts - 1))
	}
	if err != nil {
		return Page[T]{}, err
	}
	if page.More && page.Next.IsStart() {
		// A resume from such a checkpoint would silently start over.
		return Page[T]{}, &FetchError{Position: pos, Attempts: attempts, Err: ErrNoNext}
	}
	r.observe(Event{Kind: EventPageFetched, Stream: r.stream, Position: pos, Items: len(page.Items),
		TotalItems: page.TotalItems, TotalPages: page.TotalPages})
	return page, nil
}

// send hands f to the committing side. With group commit the pages
// waiting there may hold at most Group.Items items (or be one larger
// page): send waits for room first, which the committing side makes as it
// takes pages.
func (r *runner[T]) send(ctx context.Context, ch chan<- fetched[T], f fetched[T]) bool {
	if r.room != nil && r.room.Acquire(ctx, r.weight(&f)) != nil {
		return false
	}
	select {
	case ch <- f:
		return true
	case <-ctx.Done():
		return false
	}
}

// taken makes room for the items of f, which the committing side took.
func (r *runner[T]) taken(f *fetched[T]) {
	if r.room != nil {
		r.room.Release(r.weight(f))
	}
}

// weight is the room f takes: its items, or all the room for a page
// larger than that.
func (r *runner[T]) weight(f *fetched[T]) int64 {
	return min(int64(len(f.page.Items)), r.roomSize)
}
