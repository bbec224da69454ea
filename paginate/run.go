package paginate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// Run syncs every page of p into sink and returns what happened.
//
// A paginator with a Validate() error method is validated first: an error
// ends the run before any request, with StopError. Run then loads the
// checkpoint of Options.Stream and starts from its position,
// after checking that the checkpoint was saved by the same settings (see
// [Identity]). It then fetches pages in order (one page ahead of the sink by
// default, several at once when p is a [Planner]), writes each page's items
// to the sink, saves the page's checkpoint, and moves on, until the paginator
// reports the last page, a limit is reached, ctx is done, or an error occurs.
// A run that completes resets the checkpoint's position and keeps its
// high-water mark, so the next run is incremental. A run that the paginator
// ends at a limit of its own (StopDepthLimit) also resets the position, but
// the next run keeps this one's Since, since records past the limit were not
// read.
//
// The error is nil when the data was read to its end or a limit stopped the
// run; otherwise it says what failed and where, and the Result's Stop and
// Checkpoint say how far the run got. Cancellation returns ctx's error with
// StopCancelled. Fetch failures are *[FetchError]; loops match [ErrLoop]; a
// checkpoint saved by other settings matches [ErrCheckpointMismatch].
func Run[T any](ctx context.Context, p Paginator[T], sink Sink[T], opts Options[T]) (Result, error) {
	if p == nil || sink == nil {
		return Result{Stream: opts.stream(sink), Stop: StopError}, errors.New("paginate: Run needs a paginator and a sink")
	}
	r := newRunner(p, sink, opts)
	commit := func(ctx context.Context, items []T, cp Checkpoint) error {
		if err := sink.Write(ctx, items); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
		if r.store != nil {
			if err := r.store.Save(ctx, cp); err != nil {
				// The items are written: committing the group
				// again page by page would write them twice.
				return splitErr{fmt.Errorf("save checkpoint: %w", err)}
			}
		}
		return nil
	}
	if r.store == nil {
		if st, ok := sink.(Store); ok {
			r.store = st
			if c, ok := sink.(Committer[T]); ok {
				commit = func(ctx context.Context, items []T, cp Checkpoint) error {
					if err := c.Commit(ctx, items, cp); err != nil {
						return fmt.Errorf("sink commit: %w", err)
					}
					return nil
				}
			}
		}
	}
	g := opts.Group
	return r.start(ctx, limits{pages: g.pages(), items: g.items(), wait: g.Wait}, joined(commit))
}

// commitFunc stores one page's items and its checkpoint.
type commitFunc[T any] func(ctx context.Context, page *Page[T], cp Checkpoint) error

// joined returns the batchFunc that commits a group's items, joined in one
// slice, with the last page's checkpoint.
func joined[T any](commit func(ctx context.Context, items []T, cp Checkpoint) error) batchFunc[T] {
	var buf []T
	return func(ctx context.Context, g []taken[T]) error {
		last := &g[len(g)-1]
		if len(g) == 1 {
			return commit(ctx, last.f.page.Items, last.cp)
		}
		buf = buf[:0]
		for i := range g {
			buf = append(buf, g[i].f.page.Items...)
		}
		err := commit(ctx, buf, last.cp)
		clear(buf) // keep no record alive until the next group
		return err
	}
}

// runner holds one run's state that both the fetching and the committing
// side need.
type runner[T any] struct {
	p        Paginator[T]
	opts     Options[T]
	stream   string
	identity Identity
	idText   string // identity.String(), as checkpoints carry it
	store    Store
	log      *slog.Logger
	retry    retrier
	// warnings say what the run cannot protect (see protect);
	// orderFromMarks says Options.Checks.Order compares HighWater marks
	// because the options left it out.
	warnings       []string
	orderFromMarks bool
	// keys is the store when it keeps the keys of the sync in progress
	// and the run tracks keys.
	keys KeyStore

	// room, with group commit, bounds the items of the pages waiting
	// for the committing side to roomSize (see send).
	room     *semaphore.Weighted
	roomSize int64

	retries atomic.Int64
	obsMu   sync.Mutex
}

// newRunner prepares a run of p into sink, which is nil for the iterators.
func newRunner[T any](p Paginator[T], sink any, opts Options[T]) *runner[T] {
	r := &runner[T]{p: p, opts: opts, stream: opts.stream(sink), identity: identityOf(p, sink, opts.Identity),
		store: opts.Store, log: opts.Logger}
	r.orderFromMarks, r.warnings = protect(&r.opts, p, sink)
	r.idText = r.identity.String()
	r.retry = retrier{policy: opts.Retry, pause: new(pauseGate), onRetry: r.onRetry}
	return r
}

// run resumes the stream, drives the fetch side in the background and
// commits pages one at a time on the calling goroutine, so that a sink or
// an iterator's yield is never called from a goroutine of ours.
func (r *runner[T]) run(ctx context.Context, commit commitFunc[T]) (Result, error) {
	return r.start(ctx, limits{pages: 1, items: 1}, func(ctx context.Context, g []taken[T]) error {
		return commit(ctx, &g[0].f.page, g[0].cp)
	})
}

// start runs the stream as run does, committing groups of pages within
// lim.
func (r *runner[T]) start(ctx context.Context, lim limits, commit batchFunc[T]) (res Result, err error) {
	start := time.Now()
	res.Stream = r.stream
	defer func() { r.done(ctx, &res, err, start) }()

	if v, ok := r.p.(Validator); ok {
		// A paginator that can check its configuration does so before the
		// first request, and before the checkpoint is touched.
		if err := v.Validate(); err != nil {
			res.Stop = StopError
			return res, fmt.Errorf("paginate: stream %q: invalid paginator: %w", r.stream, err)
		}
	}
	r.warn(ctx, &res)
	cp, err := r.resume(ctx, &res)
	if err != nil {
		return res, err
	}
	if lim.pages > 1 {
		r.roomSize = int64(lim.items)
	}
	for {
		res, err = r.sync(ctx, cp, lim, commit, &res)
		next, again := r.expired(ctx, &res, err)
		if !again {
			return res, err
		}
		cp = next
	}
}

// sync runs the sync from cp, as start does, into res.
func (r *runner[T]) sync(ctx context.Context, cp Checkpoint, lim limits, commit batchFunc[T], res *Result) (Result, error) {
	keys, allKeys, err := r.loadKeys(ctx, cp)
	if err != nil {
		res.Stop = stopFor(ctx, err)
		return *res, err
	}
	ch, stop := r.startFetching(ctx, cp, max(r.opts.prefetch(), lim.pages))
	defer stop()
	c := newCommitter(r, cp, res, ch, keys)
	if !allKeys && !cp.Drifted {
		// The runs before this one may have committed a record that
		// moved since, and whose shift this run cannot see.
		c.report(ctx, Drift{Kind: DriftResume, Position: cp.Position})
	}
	return c.loop(ctx, lim, commit)
}
