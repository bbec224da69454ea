package paginate

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Retry is the policy for failed fetches: exponential backoff with jitter,
// built on github.com/cenkalti/backoff/v4. The zero value gives sane
// defaults: up to 6 attempts, 500ms doubling to at most 30s apart, for at most
// 5 minutes, with server-requested delays honoured up to 2 minutes.
type Retry struct {
	// MaxAttempts is how many times a page is tried in all; 1 disables
	// retries. Zero means 6.
	MaxAttempts int
	// InitialInterval is the first backoff delay. Zero means 500ms.
	InitialInterval time.Duration
	// MaxInterval caps one computed delay. Zero means 30s.
	MaxInterval time.Duration
	// Multiplier grows the delay after each attempt. Zero means 2.
	Multiplier float64
	// Jitter is the randomization factor: each delay is drawn from
	// [d*(1-Jitter), d*(1+Jitter)]. Zero means 0.5; a negative value
	// disables jitter; values above 1 count as 1.
	Jitter float64
	// MaxElapsed bounds the time spent on one page's attempts and waits,
	// counted from the start of the first attempt. It is a hard bound: no
	// wait begins that would end past it, and the attempt in flight when
	// it runs out is cut (its context ends), so a page that keeps failing,
	// or a server that stalls, fails the run with ErrRetriesExhausted at
	// the bound, whatever the paginator's own timeouts. Zero means 5
	// minutes; a negative value means no bound.
	MaxElapsed time.Duration
	// MaxRetryAfter caps a delay the server asked for with Retry-After or a
	// rate-limit reset header; zero means 2 minutes. A server that asks
	// for more gets the cap, then another attempt.
	MaxRetryAfter time.Duration
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

func (r Retry) backOff() *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = orDuration(r.InitialInterval, 500*time.Millisecond)
	b.MaxInterval = orDuration(r.MaxInterval, 30*time.Second)
	if r.Multiplier > 0 {
		b.Multiplier = r.Multiplier
	} else {
		b.Multiplier = 2
	}
	switch {
	case r.Jitter < 0:
		b.RandomizationFactor = 0
	case r.Jitter > 0:
		b.RandomizationFactor = min(r.Jitter, 1) // more would draw negative delays
	default:
		b.RandomizationFactor = 0.5
	}
	// The runner bounds the elapsed time itself, from the first attempt:
	// the backoff's clock would start at the first failure.
	b.MaxElapsedTime = 0
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
	var b *backoff.ExponentialBackOff
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
		if asked {
			delay = min(ra, r.policy.maxRetryAfter())
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
