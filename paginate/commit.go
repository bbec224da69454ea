package paginate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// committer is the committing side of a run: it takes the fetched pages in
// order, works out each one's checkpoint and stop, commits them, one page
// or a group at a time, and keeps the Result.
type committer[T any] struct {
	r   *runner[T]
	res *Result
	ch  <-chan fetched[T]
	// since is the Since the sync started from; highWater and drifted
	// are the checkpoint's, as of the last page taken.
	since     string
	highWater string
	drifted   bool
	// synced counts the records the sync has committed, over its runs,
	// as of the last page taken (Checkpoint.Items).
	synced int64
	dg     *driftGuard[T]
	// hinted says the warning that the records are not in the order of
	// their marks was given.
	hinted bool
	// pages and items count the pages taken into groups, committed or
	// not, for the limits.
	pages int
	items int64
	// group is the pages being committed; held is a page taken from ch
	// that did not fit the group, and is the next group's first.
	group   []taken[T]
	held    fetched[T]
	holding bool
}

// taken is a page of a group, with the checkpoint that follows it and the
// reason the run stops after it; keys are the hashes of its records' keys
// for a KeyStore, and items the records the sync will have committed with
// it.
type taken[T any] struct {
	f     fetched[T]
	cp    Checkpoint
	stop  StopReason
	keys  []uint64
	items int64
}

// batchFunc commits a group of pages, in order, with the checkpoint of
// the last one, as one step.
type batchFunc[T any] func(ctx context.Context, group []taken[T]) error

// limits bound a group: at most pages pages and items items (but always
// one page), waiting up to wait for pages not yet fetched.
type limits struct {
	pages, items int
	wait         time.Duration
}

// splitErr marks a failed commit that must not be retried page by page:
// part of it is already done.
type splitErr struct{ error }

func (e splitErr) Unwrap() error { return e.error }

// newCommitter returns the committing side of a run that starts at cp;
// keys are the key hashes the sync's earlier runs committed.
func newCommitter[T any](r *runner[T], cp Checkpoint, res *Result, ch <-chan fetched[T], keys []uint64) *committer[T] {
	c := &committer[T]{r: r, res: res, ch: ch, since: cp.Position.Since, highWater: cp.HighWater, drifted: cp.Drifted,
		dg: newDriftGuard(&r.opts, keys, r.orderFromMarks)}
	if !cp.Position.IsStart() {
		c.synced = cp.Items
	}
	return c
}

// loop commits the fetched pages, a group at a time, until the run stops,
// and returns its outcome.
func (c *committer[T]) loop(ctx context.Context, lim limits, commit batchFunc[T]) (Result, error) {
	res, stream := c.res, c.r.stream
	for {
		clear(c.group) // keep no committed page alive while waiting
		f, ok := c.receive()
		if !ok || ctx.Err() != nil {
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
		c.group = append(c.group[:0], c.take(ctx, &f))
		c.fill(ctx, lim)
		if ctx.Err() != nil {
			break
		}
		if err := c.commit(ctx, commit); err != nil {
			return *res, err
		}
		last := &c.group[len(c.group)-1]
		if last.f.err != nil {
			// Every page before the repeat was read: the checkpoint is
			// the complete sync's, so that later runs miss nothing,
			// and the error says that the server repeats pages.
			res.Stop = StopLoopDetected
			return *res, fmt.Errorf("paginate: stream %q: %w", stream, last.f.err)
		}
		if last.stop != StopNone {
			res.Stop = last.stop
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

// receive returns the held page, or else waits for the next one.
func (c *committer[T]) receive() (fetched[T], bool) {
	if c.holding {
		c.holding = false
		f := c.held
		c.held = fetched[T]{}
		return f, true
	}
	f, ok := <-c.ch
	c.r.taken(&f)
	return f, ok
}

// fill adds to the group the pages that are waiting, within lim. A page
// that ends fetching with an error, or does not fit, is held for the next
// round, so that the pages before it are committed first.
func (c *committer[T]) fill(ctx context.Context, lim limits) {
	items := len(c.group[0].f.page.Items)
	var timeout <-chan time.Time
	for len(c.group) < lim.pages && items < lim.items {
		if last := &c.group[len(c.group)-1]; last.stop != StopNone || last.f.repeat {
			return
		}
		var (
			f  fetched[T]
			ok bool
		)
		select {
		case f, ok = <-c.ch:
		default:
			if lim.wait <= 0 {
				return
			}
			if timeout == nil {
				t := time.NewTimer(lim.wait)
				defer t.Stop()
				timeout = t.C
			}
			select {
			case f, ok = <-c.ch:
			case <-timeout:
				return
			case <-ctx.Done():
				return
			}
		}
		if !ok {
			return
		}
		c.r.taken(&f)
		if f.err != nil && !f.repeat || items+len(f.page.Items) > lim.items {
			c.held, c.holding = f, true
			return
		}
		items += len(f.page.Items)
		c.group = append(c.group, c.take(ctx, &f))
	}
}

// take prepares the page f to join a group.
func (c *committer[T]) take(ctx context.Context, f *fetched[T]) taken[T] {
	cp, stop, keys := c.prepare(ctx, f)
	if !f.repeat {
		c.pages++
		c.items += int64(len(f.page.Items))
	}
	return taken[T]{f: *f, cp: cp, stop: stop, keys: keys, items: c.synced}
}

// commit commits the group and reports its pages committed. A group that
// fails is committed again a page at a time, so that the pages before the
// one that fails are kept and the error names that page.
func (c *committer[T]) commit(ctx context.Context, commit batchFunc[T]) error {
	g := c.group
	if err := c.saveKeys(ctx, g); err != nil {
		return c.failed(ctx, err, g)
	}
	err := commit(ctx, g)
	if err == nil {
		for i := range g {
			c.committed(ctx, &g[i].f, g[i].cp)
		}
		if g[len(g)-1].cp.Position.IsStart() {
			c.forgetKeys(ctx)
		}
		return nil
	}
	var split splitErr
	if len(g) > 1 && ctx.Err() == nil && !errors.As(err, &split) {
		for i := range g {
			if err = commit(ctx, g[i:i+1]); err != nil {
				return c.failed(ctx, err, g[i:i+1])
			}
			c.committed(ctx, &g[i].f, g[i].cp)
		}
		if g[len(g)-1].cp.Position.IsStart() {
			c.forgetKeys(ctx)
		}
		return nil
	}
	return c.failed(ctx, err, g)
}

// failed sets the Result of a run whose commit of the pages g failed with
// err, and returns the run's error.
func (c *committer[T]) failed(ctx context.Context, err error, g []taken[T]) error {
	c.res.Stop = stopFor(ctx, err)
	if c.res.Stop == StopCancelled {
		return ctx.Err()
	}
	if len(g) > 1 {
		return fmt.Errorf("paginate: stream %q: commit %d pages from %v: %w", c.r.stream, len(g), g[0].f.pos, err)
	}
	return fmt.Errorf("paginate: stream %q: commit %v: %w", c.r.stream, g[0].f.pos, err)
}

// prepare takes in the page f: its totals, marks (its records' and its
// own) and drift. It returns the checkpoint to commit with it, the reason
// the run stops after it, or StopNone, and the hashes of its records' keys
// when they are kept for a resume.
func (c *committer[T]) prepare(ctx context.Context, f *fetched[T]) (Checkpoint, StopReason, []uint64) {
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
	if page.HighWater > c.highWater {
		c.highWater = page.HighWater
	}
	keys := c.drift(ctx, f)
	if c.r.keys == nil {
		keys = nil
	}
	if !f.repeat {
		c.synced += int64(len(page.Items))
	}
	next := Checkpoint{Stream: c.r.stream, Position: page.Next, HighWater: c.highWater, Drifted: c.drifted,
		Identity: c.r.idText, LastPage: page.Fingerprint, Items: c.synced}
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
		next.Drifted, next.LastPage, next.Items = false, 0, 0
		return next, stop, keys
	case opts.Limits.MaxPages > 0 && c.pages+1 >= opts.Limits.MaxPages:
		return next, StopMaxPages, keys
	case opts.Limits.MaxItems > 0 && c.items+int64(len(page.Items)) >= opts.Limits.MaxItems:
		return next, StopMaxItems, keys
	}
	return next, StopNone, keys
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

// drift reports the drift the page f shows, and returns the hashes of its
// records' keys when the run tracks them.
func (c *committer[T]) drift(ctx context.Context, f *fetched[T]) []uint64 {
	drifts, keys := c.dg.check(f.pos, f.page.Items)
	if f.page.Drift != 0 {
		drifts = append(drifts, Drift{Kind: f.page.Drift, Position: f.pos})
	}
	for _, d := range drifts {
		c.report(ctx, d)
	}
	return keys
}

// report reports the drift d: the sync counts as drifted.
func (c *committer[T]) report(ctx context.Context, d Drift) {
	c.drifted = true
	c.res.DriftCount++
	if len(c.res.Drifts) < maxDrifts {
		c.res.Drifts = append(c.res.Drifts, d)
	}
	if c.dg.unordered && !c.hinted {
		c.hinted = true
		w := "a page holds a record whose HighWater mark is below the one before it: the API does not serve " +
			"the records in the order of their marks, which a sync by position needs to see shifts, so every " +
			"such sync keeps its Since; sort by the mark, or set Options.Checks.Order to the API's order"
		c.res.Warnings = append(c.res.Warnings, w)
		if log := c.r.log; log != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "paginate: warning", slog.String("stream", c.r.stream), slog.String("warning", w))
		}
	}
	if log := c.r.log; log != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "paginate: drift", slog.String("stream", c.r.stream),
			slog.String("position", d.Position.String()), slog.String("kind", d.Kind.String()), slog.String("key", d.Key))
	}
	c.r.observe(Event{Kind: EventDrift, Stream: c.r.stream, Position: d.Position, Drift: &d})
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
	case errors.Is(err, errBreak):
		return StopBreak
	default:
		return StopError
	}
}
