package paginate

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// done logs the end of a run and reports it to the observer.
func (r *runner[T]) done(ctx context.Context, res *Result, err error, start time.Time) {
	if errors.Is(err, errBreak) {
		err = nil // the caller left the loop: not a failure
	}
	res.Duration = time.Since(start)
	res.Retries = int(r.retries.Load())
	if r.log != nil {
		lvl := slog.LevelInfo
		if err != nil && !errors.Is(err, context.Canceled) {
			lvl = slog.LevelError // an interrupt is not an error: the run ends as asked
		}
		r.log.LogAttrs(ctx, lvl, "paginate: run done", slog.String("stream", r.stream),
			slog.Int("pages", res.Pages), slog.Int64("items", res.Items), slog.Int("retries", res.Retries),
			slog.Duration("duration", res.Duration), slog.String("stop", res.Stop.String()), errAttr(err))
	}
	r.observe(Event{Kind: EventDone, Stream: r.stream, Pages: res.Pages, ItemsDone: res.Items,
		TotalItems: res.TotalItems, TotalPages: res.TotalPages, Err: err, Result: res})
}

func (r *runner[T]) onRetry(pos Position, attempt int, delay time.Duration, err error) {
	if r.log != nil {
		r.log.LogAttrs(context.Background(), slog.LevelWarn, "paginate: retry", slog.String("stream", r.stream),
			slog.String("position", pos.String()), slog.Int("attempt", attempt), slog.Duration("delay", delay.Round(time.Millisecond)), errAttr(err))
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
