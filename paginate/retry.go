package paginate

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Retry is the policy for failed fetches. The zero value gives sane
// defaults: up to 6 attempts, waits of 500ms doubling to at most 30s, for at
// most 5 minutes, with server-requested delays honoured up to 2 minutes.
// The waits between attempts come from a github.com/cenkalti/backoff/v4
// BackOff: DefaultBackOff, or one of your own.
type Retry struct {
	// MaxAttempts is how many times a page is tried in all; 1 disables
	// retries. Zero means 6.
	MaxAttempts int
	// MaxElapsed bounds one page's attempts and waits, from the start of
	// the first: the attempt in flight when it runs out is cut, and the
	// page fails with ErrRetriesExhausted. Zero means 5 minutes; a
	// negative value means no bound.
	MaxElapsed time.Duration
	// MaxRetryAfter caps a delay the server asked for (see
	// [RetryAfterer]). Zero means 2 minutes.
	MaxRetryAfter time.Duration
	// BackOff, when set, returns the policy for the waits between one
	// page's attempts, a new one for each page that fails; a
	// backoff.Stop ends the retries. Nil means DefaultBackOff.
	BackOff func() backoff.BackOff
}

func (r Retry) maxAttempts() int {
	if r.MaxAttempts <= 0 {
		return 6
	}
	return r.MaxAttempts
}

func (r Retry) maxRetryAfter() time.Duration {
	if r.MaxRetryAfter <= 0 {
		return 2 * time.Minute
	}
	return r.MaxRetryAfter
}

// DefaultBackOff returns the waits of a Retry without BackOff: exponential,
// from 500ms doubling to at most 30s, each drawn within 50% either side,
// with no bound of its own on the time elapsed (Retry.MaxElapsed bounds
// it, from the first attempt). Change its fields for a policy of your own:
//
//	Retry: paginate.Retry{BackOff: func() backoff.BackOff {
//		b := paginate.DefaultBackOff()
//		b.InitialInterval = 2 * time.Second
//		return b
//	}}
func DefaultBackOff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 500 * time.Millisecond
	b.MaxInterval = 30 * time.Second
	b.Multiplier = 2
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0
	b.Reset()
	return b
}

func (r Retry) backOff() backoff.BackOff {
	if r.BackOff == nil {
		return DefaultBackOff()
	}
	b := r.BackOff()
	if b == nil {
		return DefaultBackOff()
	}
	b.Reset()
	return b
}

// maxElapsed returns the bound on one page's attempts and waits, zero for
// none.
func (r Retry) maxElapsed() time.Duration {
	if r.MaxElapsed < 0 {
		return 0
	}
	return orDuration(r.MaxElapsed, 5*time.Minute)
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// retrier runs fetches under one policy. It is shared by every worker of a
// run, so that a server's request to slow down pauses them all.
type retrier struct {
	policy  Retry
	onRetry func(pos Position, attempt int, delay time.Duration, err error)
	pause   *pauseGate
}

// do calls fetch until it succeeds, fails permanently, or the policy gives
// up, and returns the number of attempts made. Each attempt gets a context
// that ends when MaxElapsed runs out, counted from the start of the first
// attempt, so the bound holds whatever attempt is in flight: one that is
// cut then fails the page with retries exhausted.
func (r *retrier) do(ctx context.Context, pos Position, fetch func(ctx context.Context) error) (int, error) {
	if err := r.pause.wait(ctx); err != nil {
		return 0, err
	}
	actx, limit := ctx, r.policy.maxElapsed()
	start := time.Now()
	if limit > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithDeadline(ctx, start.Add(limit))
		defer cancel()
	}
	var b backoff.BackOff
	max := r.policy.maxAttempts()
	exhausted := func(attempt int, err error, timeUp bool) error {
		fe := &FetchError{Position: pos, Attempts: attempt, Err: err, exhausted: max > 1 || timeUp}
		if timeUp {
			fe.maxElapsed = limit
		}
		return fe
	}
	for attempt := 1; ; attempt++ {
		err := fetch(actx)
		if err == nil {
			return attempt, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return attempt, ctxErr
		}
		if actx.Err() != nil {
			return attempt, exhausted(attempt, unwrapPermanent(err), true)
		}
		if IsPermanent(err) {
			return attempt, &FetchError{Position: pos, Attempts: attempt, Err: unwrapPermanent(err)}
		}
		if attempt >= max {
			return attempt, exhausted(attempt, err, false)
		}
		if b == nil {
			b = r.policy.backOff()
		}
		delay := b.NextBackOff()
		ra, asked := retryAfter(err)
		switch {
		case asked:
			delay = min(ra, r.policy.maxRetryAfter())
		case delay == backoff.Stop:
			return attempt, exhausted(attempt, err, false)
		}
		if limit > 0 && time.Since(start)+delay > limit {
			return attempt, exhausted(attempt, err, true)
		}
		if asked {
			r.pause.extend(time.Now().Add(delay))
		}
		if r.onRetry != nil {
			r.onRetry(pos, attempt, delay, err)
		}
		if err := sleep(ctx, delay); err != nil {
			return attempt, err
		}
		// Another worker's pause may hold this page back further.
		if err := r.pause.wait(actx); err != nil {
			if ctx.Err() != nil {
				return attempt, ctx.Err()
			}
			return attempt, exhausted(attempt, err, true)
		}
	}
}

func unwrapPermanent(err error) error {
	var p *backoff.PermanentError
	if errors.As(err, &p) && p == err {
		return p.Err
	}
	return err
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
