package riverjob

import (
	"errors"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// IsPermanent reports whether err, the error of a partition's or a list's
// run, is one that trying the job again cannot cure, so that the job is
// cancelled rather than retried:
//
//   - a fetch that failed without its retries running out: the paginator
//     marked the error permanent (paginate.Permanent), as the strategies
//     do for a status not worth a retry, such as 401 or 404, and for a
//     body they cannot read;
//   - a checkpoint written by other settings (paginate.ErrCheckpointMismatch);
//   - a pagination loop (paginate.ErrLoop);
//   - a record that does not fit its table (schema.ErrBadValue).
//
// Everything else, such as a fetch whose retries ran out, a lost database
// connection or a stream locked by another worker, is transient: River
// tries the job again with its backoff. A paginator whose Retry allows one
// attempt makes every fetch error look permanent; use Config.Permanent to
// decide otherwise.
func IsPermanent(err error) bool {
	var fe *paginate.FetchError
	switch {
	case errors.Is(err, paginate.ErrCheckpointMismatch), errors.Is(err, paginate.ErrLoop), errors.Is(err, schema.ErrBadValue):
		return true
	case errors.As(err, &fe):
		return !errors.Is(fe, paginate.ErrRetriesExhausted)
	}
	return false
}
