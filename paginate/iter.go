package paginate

import (
	"context"
	"errors"
	"iter"
)

// errBreak is how an iterator's consumer leaving the loop stops the run.
var errBreak = errors.New("paginate: iteration stopped")

// Pages returns an iterator over the pages of p, for callers who want a
// for-range loop and no sink. It uses the same engine as [Run]: retries,
// loop detection, limits and prefetching, and, when Options.Store is set, a
// checkpoint saved after the loop body has finished with each page, so that
// a later call resumes after the last page the body completed.
//
// On failure the iterator yields the zero Page and the error once, then
// stops. Breaking out of the loop stops fetching and leaves no goroutine
// behind. Each range over the iterator is a new run. To learn how the run
// ended (its stop reason, totals, checkpoint and drift), use [Iterate].
func Pages[T any](ctx context.Context, p Paginator[T], opts Options[T]) iter.Seq2[Page[T], error] {
	return func(yield func(Page[T], error) bool) {
		Iterate(ctx, p, opts).Pages()(yield)
	}
}

// All returns an iterator over every item of every page of p, in order. It
// behaves as [Pages] does: the zero item and the error are yielded once on
// failure, and with Options.Store the checkpoint advances after the body has
// taken the last item of each page. To learn how the run ended, use
// [Iterate].
func All[T any](ctx context.Context, p Paginator[T], opts Options[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		Iterate(ctx, p, opts).All()(yield)
	}
}

// An Iterator is one run of a paginator driven by a for-range loop, over
// its pages ([Iterator.Pages]) or its items ([Iterator.All]), that keeps
// the run's [Result] for after the loop:
//
//	it := paginate.Iterate(ctx, api, opts)
//	for user, err := range it.All() {
//		if err != nil {
//			return err
//		}
//		// use user
//	}
//	res := it.Result() // res.Stop, res.Items, res.Checkpoint, res.Drifts ...
//
// The run is the one [Pages] and [All] make. An Iterator runs once: range
// over one of its iterators once, then read Result. Its methods are not
// safe for concurrent use.
type Iterator[T any] struct {
	ctx  context.Context
	p    Paginator[T]
	opts Options[T]

	started bool
	res     Result
	err     error
}

// Iterate returns an Iterator for one run of p with opts. Nothing is
// fetched until the loop over [Iterator.All] or [Iterator.Pages] starts.
func Iterate[T any](ctx context.Context, p Paginator[T], opts Options[T]) *Iterator[T] {
	return &Iterator[T]{ctx: ctx, p: p, opts: opts}
}

// Pages returns an iterator over the run's pages, as [Pages] does.
func (it *Iterator[T]) Pages() iter.Seq2[Page[T], error] {
	return func(yield func(Page[T], error) bool) {
		if err := it.run(func(page *Page[T]) bool { return yield(*page, nil) }); err != nil {
			yield(Page[T]{}, err)
		}
	}
}

// All returns an iterator over the items of the run's pages, in order, as
// [All] does.
func (it *Iterator[T]) All() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		err := it.run(func(page *Page[T]) bool {
			for _, item := range page.Items {
				if !yield(item, nil) {
					return false
				}
			}
			return true
		})
		if err != nil {
			var zero T
			yield(zero, err)
		}
	}
}

// Result returns what the run did, as [Run] reports it, once the loop has
// ended: pages and items the loop body finished with, retries, duration,
// why it stopped, the server's totals, the last checkpoint and drift.
//
// A page counts as done, and its checkpoint is saved, once the body has
// taken all of it; after a break the page being read counts as not done,
// so the checkpoint points at it and a resumed run delivers it again. A
// loop left by break, or a return, from its body ends with Stop StopBreak
// and a nil Err: nothing stopped the run but the caller. Before the loop
// ends, Result is the zero Result.
func (it *Iterator[T]) Result() Result { return it.res }

// Err returns the error that ended the run, the one the loop was given, or
// nil when the run completed, stopped at a limit or was left by the loop
// body.
func (it *Iterator[T]) Err() error { return it.err }

// errRanTwice is yielded by a second loop over one Iterator.
var errRanTwice = errors.New("paginate: an Iterator runs once; call Iterate for another run")

// run runs the paginator once, handing each page to deliver until it
// returns false. It records the Result and error, and returns the error
// the loop must be given, if any.
func (it *Iterator[T]) run(deliver func(*Page[T]) bool) error {
	if it.started {
		return errRanTwice
	}
	it.started = true
	if it.p == nil {
		it.res = Result{Stream: it.opts.stream(nil), Stop: StopError}
		it.err = errors.New("paginate: Iterate needs a paginator")
		return it.err
	}
	r := newRunner(it.p, nil, it.opts)
	res, err := r.run(it.ctx, func(ctx context.Context, page *Page[T], cp Checkpoint) error {
		// A repeated page that ended the data carries nothing new.
		if (len(page.Items) > 0 || page.Stop != StopRepeatedPage) && !deliver(page) {
			return errBreak
		}
		if r.store != nil {
			return r.store.Save(ctx, cp)
		}
		return nil
	})
	if errors.Is(err, errBreak) {
		err = nil // res.Stop is StopBreak
	}
	it.res, it.err = res, err
	return err
}
