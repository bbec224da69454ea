package paginate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// resume loads the stream's checkpoint and returns the one to start from:
// the zero checkpoint when there is none, or, when the checkpoint was saved
// by other settings and Options.Restart is set, one that starts the stream
// over.
func (r *runner[T]) resume(ctx context.Context, res *Result) (Checkpoint, error) {
	cp := Checkpoint{Stream: r.stream}
	if r.store != nil {
		loaded, found, err := r.store.Load(ctx, r.stream)
		if err != nil {
			res.Stop = stopFor(ctx, err)
			return cp, fmt.Errorf("paginate: stream %q: load checkpoint: %w", r.stream, err)
		}
		if found {
			cp = loaded
			cp.Stream = r.stream
		}
	}
	ch := changes(cp.Identity, r.identity)
	if cp.Position.IsStart() && len(ch) > 0 {
		// A completed sync's mark (or no checkpoint at all) means the
		// same records however they are paged.
		var carried []Change
		ch = slices.DeleteFunc(ch, func(c Change) bool {
			if c.PositionOnly() {
				carried = append(carried, c)
			}
			return c.PositionOnly()
		})
		if len(carried) > 0 && r.log != nil {
			r.log.LogAttrs(ctx, slog.LevelInfo, "paginate: the settings that shape positions changed; the checkpoint holds none, so its mark carries over",
				slog.String("stream", r.stream), slog.String("changed", changeList(carried)), slog.String("since", cp.Position.Since))
		}
	}
	if len(ch) > 0 {
		mm := &MismatchError{Stream: r.stream, Position: cp.Position, Changes: ch}
		if !r.restarts() {
			res.Checkpoint = cp
			res.Stop = StopError
			return cp, fmt.Errorf("paginate: %w", mm)
		}
		res.Restarted = mm
		cp = restart(cp, ch)
		if r.log != nil {
			r.log.LogAttrs(ctx, slog.LevelWarn, "paginate: restart", slog.String("stream", r.stream),
				slog.String("changed", changeList(ch)), slog.String("since", cp.Position.Since))
		}
	}
	cp.Identity = r.idText
	res.Checkpoint = cp
	res.Resumed = !cp.Position.IsStart()
	return cp, nil
}

// restarts reports whether a checkpoint saved by other settings starts
// the stream over: Options.Restart, or a store that asks for it.
func (r *runner[T]) restarts() bool {
	if r.opts.Restart {
		return true
	}
	rs, ok := r.store.(RestartingStore)
	return ok && rs.RestartsStreams()
}

// restart returns the checkpoint that starts a stream over after its
// settings changed: from the last completed sync's mark, which the data
// in the destination already covers, when only the paging changed; from
// the very start when the destination changed, since the new one holds
// none of the data, or what the stream reads changed (its endpoint, query
// or window), since the destination holds none of the records the old
// settings left out from before the mark.
func restart(cp Checkpoint, ch []Change) Checkpoint {
	if !slices.ContainsFunc(ch, func(c Change) bool { return !c.PositionOnly() }) {
		return Checkpoint{Stream: cp.Stream, Position: Position{Since: cp.Position.Since}, HighWater: cp.HighWater}
	}
	return Checkpoint{Stream: cp.Stream}
}

// changeList returns ch as one line for a log.
func changeList(ch []Change) string {
	s := make([]string, len(ch))
	for i, c := range ch {
		s[i] = c.String()
	}
	return strings.Join(s, "; ")
}
