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
// behind.
func Pages[T any](ctx context.Context, p Paginator[T], opts Options[T]) iter.Seq2[Page[T], error] {
	return func(yield func(Page[T], error) bool) {
		if p == nil {
			yield(Page[T]{}, errors.New("paginate: Pages needs a paginator"))
			return
		}
		r := newRunner(p, nil, opts)
		_, err := r.run(ctx, func(ctx context.Context, page *Page[T], cp Checkpoint) error {
			// A repeated page that ended the data carries nothing new.
			if (len(page.Items) > 0 || page.Stop != StopRepeatedPage) && !yield(*page, nil) {
				return errBreak
			}
			if r.store != nil {
				return r.store.Save(ctx, cp)
			}
			return nil
		})
		if err != nil && !errors.Is(err, errBreak) {
			yield(Page[T]{}, err)
		}
	}
}

// All returns an iterator over every item of every page of p, in order. It
// behaves as [Pages] does: the zero item and the error are yielded once on
// failure, and with Options.Store the checkpoint advances after the body has
// taken the last item of each page.
func All[T any](ctx context.Context, p Paginator[T], opts Options[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page, err := range Pages(ctx, p, opts) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}
