package paginate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Run syncs every page of p into sink and returns what happened.
//
// Run loads the checkpoint of Options.Stream and starts from its position. It
// then fetches pages in order (one page ahead of the sink by default, several
// at once when p is a [Planner]), writes each page's items to the sink, saves
// the page's checkpoint, and moves on, until the paginator reports the last
// page, a limit is reached, ctx is done, or an error occurs. A run that
// completes resets the checkpoint's position and keeps its high-water mark, so
// the next run is incremental. A run that the paginator ends at a limit of its
// own (Page.Stop StopMaxPages or StopMaxItems) also resets the position, but
// the next run keeps this one's Since, since records past the limit were not
// read.
//
// The error is nil when the data was read to its end or a limit stopped the
// run; otherwise it says what failed and where, and the Result's Stop and
// Checkpoint say how far the run got. Cancellation returns ctx's error with
// StopCancelled. Fetch failures are *[FetchError]; loops match [ErrLoop].
func Run[T any](ctx context.Context, p Paginator[T], sink Sink[T], opts Options[T]) (Result, error) {
	if p == nil || sink == nil {
		return Result{Stream: opts.stream(), Stop: StopError}, errors.New("paginate: Run needs a paginator and a sink")
	}
	r := newRunner(p, opts)
	commit := func(ctx context.Context, page *Page[T], cp Checkpoint) error {
		if err := sink.Write(ctx, page.Items); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
		if r.store != nil {
			if err := r.store.Save(ctx, cp); err != nil {
				return fmt.Errorf("save checkpoint: %w", err)
			}
		}
		return nil
	}
	if r.store == nil {
		if st, ok := sink.(Store); ok {
			r.store = st
			if c, ok := sink.(Committer[T]); ok {
				commit = func(ctx context.Context, page *Page[T], cp Checkpoint) error {
					if err := c.Commit(ctx, page.Items, cp); err != nil {
						return fmt.Errorf("sink commit: %w", err)
					}
					return nil
				}
			}
		}
	}
	return r.run(ctx, commit)
}

// runner holds one run's state that both the fetching and the committing
// side need.
type runner[T any] struct {
	p      Paginator[T]
	opts   Options[T]
	stream string
	store  Store
	log    *slog.Logger
	retry  retrier

	retries atomic.Int64
	obsMu   sync.Mutex
}

func newRunner[T any](p Paginator[T], opts Options[T]) *runner[T] {
	r := &runner[T]{p: p, opts: opts, stream: opts.stream(), store: opts.Store, log: opts.Logger}
	r.retry = retrier{policy: opts.Retry, pause: new(pauseGate), onRetry: r.onRetry}
	return r
}

// fetched is one page, or the error that ended fetching, on its way from
// the fetching side to the committing side.
type fetched[T any] struct {
	pos  Position
	page Page[T]
	err  error
}

// run drives the fetch side in the background and commits pages in order
// on the calling goroutine, so that a sink or an iterator's yield is never
// called from a goroutine of ours.
func (r *runner[T]) run(ctx context.Context, commit func(context.Context, *Page[T], Checkpoint) error) (res Result, err error) {
	start := time.Now()
	res.Stream = r.stream
	defer func() {
		res.Duration = time.Since(start)
		res.Retries = int(r.retries.Load())
		if r.log != nil {
			lvl := slog.LevelInfo
			if err != nil {
				lvl = slog.LevelError
			}
			r.log.LogAttrs(ctx, lvl, "paginate: run done", slog.String("stream", r.stream),
				slog.Int("pages", res.Pages), slog.Int64("items", res.Items), slog.Int("retries", res.Retries),
				slog.Duration("duration", res.Duration), slog.String("stop", res.Stop.String()), errAttr(err))
		}
		r.observe(Event{Kind: EventDone, Stream: r.stream, Pages: res.Pages, ItemsDone: res.Items,
			TotalItems: res.TotalItems, TotalPages: res.TotalPages, Err: err, Result: &res})
	}()

	cp := Checkpoint{Stream: r.stream}
	if r.store != nil {
		loaded, found, lerr := r.store.Load(ctx, r.stream)
		if lerr != nil {
			res.Stop = stopFor(ctx, lerr)
			return res, fmt.Errorf("paginate: stream %q: load checkpoint: %w", r.stream, lerr)
		}
		if found {
			cp = loaded
			cp.Stream = r.stream
		}
	}
	res.Checkpoint = cp
	res.Resumed = !cp.Position.IsStart()

	fctx, cancel := context.WithCancel(ctx)
	ch := make(chan fetched[T], r.opts.prefetch()-1)
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
		r.fetchPages(fctx, cp.Position, ch)
	}()
	defer func() {
		cancel()
		for range ch {
		}
		wg.Wait()
	}()

	highWater := cp.HighWater
	drifted := cp.Drifted
	dg := newDriftGuard(&r.opts)
	for f := range ch {
		if ctx.Err() != nil {
			break // do not commit a prefetched page after a cancel
		}
		if pe, ok := f.err.(*panicError); ok {
			panic(pe)
		}
		if f.err != nil {
			res.Stop = stopFor(ctx, f.err)
			if res.Stop == StopCancelled {
				return res, ctx.Err()
			}
			return res, fmt.Errorf("paginate: stream %q: %w", r.stream, f.err)
		}
		page := &f.page
		if page.TotalItems > 0 {
			res.TotalItems = page.TotalItems
		}
		if page.TotalPages > 0 {
			res.TotalPages = page.TotalPages
		}
		if r.opts.HighWater != nil {
			for i := range page.Items {
				if m := r.opts.HighWater(page.Items[i]); m > highWater {
					highWater = m
				}
			}
		}
		drifts := dg.check(f.pos, page.Items)
		if page.Drift != 0 {
			drifts = append(drifts, Drift{Kind: page.Drift, Position: f.pos})
		}
		for _, d := range drifts {
			drifted = true
			res.DriftCount++
			if len(res.Drifts) < maxDrifts {
				res.Drifts = append(res.Drifts, d)
			}
			if r.log != nil {
				r.log.LogAttrs(ctx, slog.LevelWarn, "paginate: drift", slog.String("stream", r.stream),
					slog.String("position", d.Position.String()), slog.String("kind", d.Kind.String()), slog.String("key", d.Key))
			}
			r.observe(Event{Kind: EventDrift, Stream: r.stream, Position: f.pos, Drift: &d})
		}
		next := Checkpoint{Stream: r.stream, Position: page.Next, HighWater: highWater, Drifted: drifted}
		next.Position.Since = cp.Position.Since
		stop := StopNone
		switch {
		case !page.More:
			stop = page.Stop
			if stop == StopNone {
				stop = StopLastPage
			}
			next.Position = Position{Since: highWater}
			// A drifted sync, or one the paginator ended at a limit of
			// its own (an API's depth limit), may have left records
			// behind the mark: the next sync reads again from where this
			// one started, so that none is skipped.
			if drifted || !stop.Complete() {
				next.Position.Since = cp.Position.Since
				next.Drifted = false
			}
		case r.opts.MaxPages > 0 && res.Pages+1 >= r.opts.MaxPages:
			stop = StopMaxPages
		case r.opts.MaxItems > 0 && res.Items+int64(len(page.Items)) >= r.opts.MaxItems:
			stop = StopMaxItems
		}
		if cerr := commit(ctx, page, next); cerr != nil {
			res.Stop = stopFor(ctx, cerr)
			if res.Stop == StopCancelled {
				return res, ctx.Err()
			}
			return res, fmt.Errorf("paginate: stream %q: commit %v: %w", r.stream, f.pos, cerr)
		}
		res.Pages++
		res.Items += int64(len(page.Items))
		res.Checkpoint = next
		if r.log != nil {
			r.log.LogAttrs(ctx, slog.LevelInfo, "paginate: page committed", slog.String("stream", r.stream),
				slog.String("position", f.pos.String()), slog.Int("items", len(page.Items)),
				slog.Int("pages", res.Pages), slog.Int64("items_done", res.Items), slog.Int64("total_items", res.TotalItems))
		}
		r.observe(Event{Kind: EventPageCommitted, Stream: r.stream, Position: f.pos, Items: len(page.Items),
			TotalItems: res.TotalItems, TotalPages: res.TotalPages, Pages: res.Pages, ItemsDone: res.Items})
		if stop != StopNone {
			res.Stop = stop
			return res, nil
		}
	}
	// The fetching side only closes without a last page when ctx is done.
	res.Stop = StopCancelled
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, fmt.Errorf("paginate: stream %q: fetching ended without a last page", r.stream)
}

// stopFor classifies the error that ended a run.
func stopFor(ctx context.Context, err error) StopReason {
	switch {
	case ctx.Err() != nil:
		return StopCancelled
	case errors.Is(err, ErrLoop):
		return StopLoopDetected
	default:
		return StopError
	}
}

// fetchPages fetches pages in order from pos and sends them to ch, until
// the last page, an error, a limit, or ctx is done. After the first page, a
// Planner's plan is fetched in parallel (see fetchPlanned).
func (r *runner[T]) fetchPages(ctx context.Context, pos Position, ch chan<- fetched[T]) {
	since := pos.Since
	lp := newLoopGuard(r.opts.Key, r.opts.HighWater)
	planner, _ := r.p.(Planner)
	if r.opts.concurrency() < 2 {
		planner = nil
	}
	for n := 1; ; n++ {
		page, err := r.fetchSequential(ctx, pos, n, lp)
		if !send(ctx, ch, fetched[T]{pos: pos, page: page, err: err}) || err != nil || !page.More || r.maxPages(n) {
			return
		}
		next := page.Next
		next.Since = since
		if n == 1 && planner != nil {
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

func (r *runner[T]) maxPages(n int) bool { return r.opts.MaxPages > 0 && n >= r.opts.MaxPages }

// fetchSequential fetches the n-th page of the run, at pos, with loop checks.
func (r *runner[T]) fetchSequential(ctx context.Context, pos Position, n int, lp *loopGuard[T]) (Page[T], error) {
	if err := lp.position(pos, n); err != nil {
		return Page[T]{}, err
	}
	page, err := r.fetch(ctx, pos)
	if err != nil {
		return Page[T]{}, err
	}
	if err := lp.page(pos, n, page.Items); err != nil {
		return Page[T]{}, err
	}
	return page, nil
}

// fetch fetches the page at pos under the retry policy. It is safe to call
// from several goroutines.
func (r *runner[T]) fetch(ctx context.Context, pos Position) (Page[T], error) {
	var page Page[T]
	attempts, err := r.retry.do(ctx, pos, func() error {
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

func send[V any](ctx context.Context, ch chan<- V, v V) bool {
	select {
	case ch <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *runner[T]) onRetry(pos Position, attempt int, delay time.Duration, err error) {
	if r.log != nil {
		r.log.LogAttrs(context.Background(), slog.LevelWarn, "paginate: retry", slog.String("stream", r.stream),
			slog.String("position", pos.String()), slog.Int("attempt", attempt), slog.Duration("delay", delay), errAttr(err))
	}
	r.observe(Event{Kind: EventRetry, Stream: r.stream, Position: pos, Attempt: attempt, Delay: delay, Err: err})
}

func (r *runner[T]) observe(e Event) {
	if r.opts.Observe == nil {
		return
	}
	r.obsMu.Lock()
	defer r.obsMu.Unlock()
	r.opts.Observe(e)
}

func errAttr(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	return slog.String("error", err.Error())
}
