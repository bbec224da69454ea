package paginate

import (
	"context"
	"errors"
	"log/slog"
)

// expired decides what follows a run of the sync from cp that ended with
// err. When a position the sync had reached expired (ErrPositionExpired),
// it returns the checkpoint that starts the sync over from its last
// completed mark, and true, the first time; the second time, it saves
// that checkpoint, so that no later run resumes at a dead position, and
// returns false: the run ends with err.
func (r *runner[T]) expired(ctx context.Context, res *Result, err error) (Checkpoint, bool) {
	var fe *FetchError
	if err == nil || ctx.Err() != nil || !errors.Is(err, ErrPositionExpired) || !errors.As(err, &fe) || fe.Position.IsStart() {
		return Checkpoint{}, false
	}
	cp := restart(res.Checkpoint, nil)
	cp.Identity = r.idText
	if res.Expired != nil {
		if r.store != nil {
			if serr := r.store.Save(ctx, cp); serr != nil {
				r.logExpired(ctx, slog.LevelError, "paginate: position expired again; saving the checkpoint of a restart failed", fe,
					slog.String("error", serr.Error()))
				return Checkpoint{}, false
			}
			res.Checkpoint = cp
		}
		r.logExpired(ctx, slog.LevelError, "paginate: position expired again after a restart; the next run starts the sync over", fe,
			slog.String("since", cp.Position.Since))
		return Checkpoint{}, false
	}
	res.Expired = fe
	res.Stop = StopNone
	r.logExpired(ctx, slog.LevelWarn, "paginate: position expired; the sync restarts from its last completed mark", fe,
		slog.String("since", cp.Position.Since))
	return cp, true
}

func (r *runner[T]) logExpired(ctx context.Context, level slog.Level, msg string, fe *FetchError, attrs ...slog.Attr) {
	if r.log == nil {
		return
	}
	attrs = append([]slog.Attr{slog.String("stream", r.stream), slog.String("position", fe.Position.String()),
		slog.String("error", fe.Err.Error())}, attrs...)
	r.log.LogAttrs(ctx, level, msg, attrs...)
}
