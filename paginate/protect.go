package paginate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// protect turns on the drift detection that the options leave out and
// the paginator and the sink make possible (see [Describer] and [Keyer]),
// and returns what still cannot be protected, in words.
func protect[T any](opts *Options[T], p Paginator[T], sink any) (orderFromMarks bool, warnings []string) {
	if opts.Key == nil {
		if k, ok := sink.(Keyer[T]); ok {
			opts.Key = k.Key
		}
	}
	d, described := describe(p)
	if !described {
		return false, nil
	}
	if opts.HighWater != nil && !d.SendsSince {
		warnings = append(warnings, "HighWater is set, but the paginator sends no request bounded by Since "+
			"(such as SinceParam, or a cursor that starts at the mark): every sync reads every record again; "+
			"set the paginator's SinceParam, or leave HighWater out")
	}
	incremental := opts.HighWater != nil || d.SendsSince
	if !d.ByPosition || !incremental {
		return false, warnings
	}
	if opts.Key == nil {
		warnings = append(warnings, "the paginator reads by position, and no key is known (Options.Key, or a sink "+
			"with a primary key): a record that the source shifts across a page boundary during the sync is "+
			"skipped unseen, and the next sync starts past it; set Options.Key")
		return false, warnings
	}
	opts.Checks.TrackKeys = true
	if opts.Checks.Order == nil && opts.HighWater != nil && d.SendsSince {
		// A sync by position that advances Since needs the records in
		// the order of their marks: a record updated behind the position
		// must move past it, where the sync reads it again and sees the
		// shift. A page whose marks go back says the API orders
		// otherwise, and the sync keeps its Since.
		mark := opts.HighWater
		opts.Checks.Order = func(a, b T) int { return strings.Compare(mark(a), mark(b)) }
		orderFromMarks = true
	}
	return orderFromMarks, warnings
}

// warn logs the run's warnings before its first request.
func (r *runner[T]) warn(ctx context.Context, res *Result) {
	res.Warnings = append(res.Warnings, r.warnings...)
	if r.log == nil {
		return
	}
	for _, w := range r.warnings {
		r.log.LogAttrs(ctx, slog.LevelWarn, "paginate: warning", slog.String("stream", r.stream), slog.String("warning", w))
	}
}

// tracks reports whether the run tracks keys.
func (r *runner[T]) tracks() bool { return r.opts.Checks.TrackKeys && r.opts.Key != nil }

// loadKeys returns the key hashes that the earlier runs of the sync that
// cp continues committed, and whether they are all there. A sync that
// starts forgets the keys of the one before.
func (r *runner[T]) loadKeys(ctx context.Context, cp Checkpoint) ([]uint64, bool, error) {
	if !r.tracks() {
		return nil, true, nil
	}
	resumed := !cp.Position.IsStart()
	ks, ok := r.store.(KeyStore)
	if !ok {
		return nil, !resumed, nil
	}
	r.keys = ks
	upTo := cp.Items
	if !resumed {
		upTo = 0
	}
	keys, err := ks.LoadKeys(ctx, r.stream, upTo)
	if err != nil {
		return nil, false, fmt.Errorf("paginate: stream %q: load the keys of the sync in progress: %w", r.stream, err)
	}
	return keys, !resumed || cp.Items > 0 && int64(len(keys)) == cp.Items, nil
}

// saveKeys saves the keys of the pages g before they are committed.
func (c *committer[T]) saveKeys(ctx context.Context, g []taken[T]) error {
	ks := c.r.keys
	if ks == nil {
		return nil
	}
	for i := range g {
		if len(g[i].keys) == 0 {
			continue
		}
		if err := ks.SaveKeys(ctx, c.r.stream, g[i].items, g[i].keys); err != nil {
			return fmt.Errorf("save the keys of %v: %w", g[i].f.pos, err)
		}
	}
	return nil
}

// forgetKeys drops the keys of the sync that completed with the group
// just committed: the next sync starts without them.
func (c *committer[T]) forgetKeys(ctx context.Context) {
	ks := c.r.keys
	if ks == nil {
		return
	}
	if _, err := ks.LoadKeys(ctx, c.r.stream, 0); err != nil && c.r.log != nil {
		// The next sync forgets them when it starts.
		c.r.log.LogAttrs(ctx, slog.LevelWarn, "paginate: forget the keys of the completed sync", slog.String("stream", c.r.stream), errAttr(err))
	}
}
