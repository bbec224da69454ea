package paginate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// committer is the committing side of a run: it takes the fetched pages in
// order, works out each one's checkpoint and stop, commits it, and keeps
// the Result.
type committer[T any] struct {
	r   *runner[T]
	res *Result
	// since is the Since the sync started from; highWater and drifted
	// are the checkpoint's, as of the last page taken.
	since     string
	highWater string
	drifted   bool
	dg        *driftGuard[T]
}

func newCommitter[T any](r *runner[T], cp Checkpoint, res *Result) *committer[T] {
	return &committer[T]{r: r, res: res, since: cp.Position.Since, highWater: cp.HighWater, drifted: cp.Drifted,
		dg: newDriftGuard(&r.opts)}
}

// loop commits the pages from ch until the run stops, and returns its
// outcome.
func (c *committer[T]) loop(ctx context.Context, ch <-chan fetched[T], commit commitFunc[T]) (Result, error) {
	res, stream := c.res, c.r.stream
	for f := range ch {
		if ctx.Err() != nil {
			break // do not commit a prefetched page after a cancel
		}
		if pe, ok := f.err.(*panicError); ok {
			panic(pe)
		}
		if f.err != nil && !f.repeat {
			res.Stop = stopFor(ctx, f.err)
			if res.Stop == StopCancelled {
				return *res, ctx.Err()
			}
			return *res, fmt.Errorf("paginate: stream %q: %w", stream, f.err)
		}
		next, stop := c.prepare(ctx, &f)
		if err := commit(ctx, &f.page, next); err != nil {
			res.Stop = stopFor(ctx, err)
			if res.Stop == StopCancelled {
				return *res, ctx.Err()
			}
			return *res, fmt.Errorf("paginate: stream %q: commit %v: %w", stream, f.pos, err)
		}
		c.committed(ctx, &f, next)
		if f.err != nil {
			// Every page before the repeat was read: the checkpoint is
			// the complete sync's, so that later runs miss nothing,
			// and the error says that the server repeats pages.
			res.Stop = StopLoopDetected
			return *res, fmt.Errorf("paginate: stream %q: %w", stream, f.err)
		}
		if stop != StopNone {
			res.Stop = stop
			return *res, nil
		}
	}
	// The fetching side only closes without a last page when ctx is done.
	res.Stop = StopCancelled
	if err := ctx.Err(); err != nil {
		return *res, err
	}
	return *res, fmt.Errorf("paginate: stream %q: fetching ended without a last page", stream)
}

// prepare takes in the page f: its totals, marks and drift. It returns the
// checkpoint to commit with it and the reason the run stops after it, or
// StopNone.
func (c *committer[T]) prepare(ctx context.Context, f *fetched[T]) (Checkpoint, StopReason) {
	page, opts := &f.page, &c.r.opts
	if page.TotalItems > 0 {
		c.res.TotalItems = page.TotalItems
	}
	if page.TotalPages > 0 {
		c.res.TotalPages = page.TotalPages
	}
	if opts.HighWater != nil {
		for i := range page.Items {
			if m := opts.HighWater(page.Items[i]); m > c.highWater {
				c.highWater = m
			}
		}
	}
	c.drift(ctx, f)
	next := Checkpoint{Stream: c.r.stream, Position: page.Next, HighWater: c.highWater, Drifted: c.drifted,
		Identity: c.r.idText, LastPage: page.Fingerprint}
	next.Position.Since = c.since
	switch {
	case !page.More:
		stop := lastStop(page.Stop)
		// The sync is over: the next one starts from the start, at the
		// mark. A drifted sync, or one the paginator ended at a limit of
		// its own (an API's depth limit), may have left records behind
		// the mark: the next sync reads again from where this one
		// started, so that none is skipped.
		next.Position = Position{Since: c.highWater}
		if c.drifted || !stop.Complete() {
			next.Position.Since = c.since
		}
		next.Drifted, next.LastPage = false, 0
		return next, stop
	case opts.MaxPages > 0 && c.res.Pages+1 >= opts.MaxPages:
		return next, StopMaxPages
	case opts.MaxItems > 0 && c.res.Items+int64(len(page.Items)) >= opts.MaxItems:
		return next, StopMaxItems
	}
	return next, StopNone
}

// lastStop is the reason a last page gives for the end of the run.
func lastStop(s StopReason) StopReason {
	switch s {
	case StopNone:
		return StopLastPage
	case StopMaxPages, StopMaxItems:
		// The paginator's own limit, not the caller's: the checkpoint
		// differs (see StopDepthLimit).
		return StopDepthLimit
	}
	return s
}

// drift reports the drift the page f shows.
func (c *committer[T]) drift(ctx context.Context, f *fetched[T]) {
	drifts := c.dg.check(f.pos, f.page.Items)
	if f.page.Drift != 0 {
		drifts = append(drifts, Drift{Kind: f.page.Drift, Position: f.pos})
	}
	for _, d := range drifts {
		c.drifted = true
		c.res.DriftCount++
		if len(c.res.Drifts) < maxDrifts {
			c.res.Drifts = append(c.res.Drifts, d)
		}
		if log := c.r.log; log != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "paginate: drift", slog.String("stream", c.r.stream),
				slog.String("position", d.Position.String()), slog.String("kind", d.Kind.String()), slog.String("key", d.Key))
		}
		c.r.observe(Event{Kind: EventDrift, Stream: c.r.stream, Position: f.pos, Drift: &d})
	}
}

// committed records that the page f was committed with the checkpoint cp.
func (c *committer[T]) committed(ctx context.Context, f *fetched[T], cp Checkpoint) {
	res, r := c.res, c.r
	res.Checkpoint = cp
	if f.repeat {
		if r.log != nil {
			r.log.LogAttrs(ctx, slog.LevelInfo, "paginate: repeated page ends the data", slog.String("stream", r.stream),
				slog.String("position", f.pos.String()))
		}
		return
	}
	res.Pages++
	res.Items += int64(len(f.page.Items))
	if r.log != nil {
		r.log.LogAttrs(ctx, slog.LevelInfo, "paginate: page committed", slog.String("stream", r.stream),
			slog.String("position", f.pos.String()), slog.Int("items", len(f.page.Items)),
			slog.Int("pages", res.Pages), slog.Int64("items_done", res.Items), slog.Int64("total_items", res.TotalItems))
	}
	r.observe(Event{Kind: EventPageCommitted, Stream: r.stream, Position: f.pos, Items: len(f.page.Items),
		TotalItems: res.TotalItems, TotalPages: res.TotalPages, Pages: res.Pages, ItemsDone: res.Items})
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
