package paginate

import (
	"context"
	"fmt"
	"log/slog"
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
	if ch := changes(cp.Identity, r.identity); len(ch) > 0 {
		mm := &MismatchError{Stream: r.stream, Position: cp.Position, Changes: ch}
		if !r.opts.Restart {
			res.Checkpoint = cp
			res.Stop = StopError
			return cp, fmt.Errorf("paginate: %w", mm)
		}
		res.Restarted = mm
		cp = restart(cp, ch)
		if r.log != nil {
			changed := make([]string, len(ch))
			for i, c := range ch {
				changed[i] = c.String()
			}
			r.log.LogAttrs(ctx, slog.LevelWarn, "paginate: restart", slog.String("stream", r.stream),
				slog.String("changed", strings.Join(changed, "; ")), slog.String("since", cp.Position.Since))
		}
	}
	cp.Identity = r.idText
	res.Checkpoint = cp
	res.Resumed = !cp.Position.IsStart()
	return cp, nil
}

// restart returns the checkpoint that starts a stream over after its
// settings changed: from the last completed sync's mark, which the data
// in the destination already covers, or from the very start when the
// destination itself changed, since the new one holds none of it.
func restart(cp Checkpoint, ch []Change) Checkpoint {
	for _, c := range ch {
		if c.Part == "table" || strings.HasSuffix(c.Part, ".table") {
			return Checkpoint{Stream: cp.Stream}
		}
	}
	return Checkpoint{Stream: cp.Stream, Position: Position{Since: cp.Position.Since}, HighWater: cp.HighWater}
}
