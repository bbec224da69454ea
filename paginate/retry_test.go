package paginate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// noJitter returns waits from initial, doubling, without jitter.
func noJitter(initial time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff {
		b := DefaultBackOff()
		b.InitialInterval, b.RandomizationFactor = initial, 0
		return b
	}
}

// TestRetryMaxElapsedCountsFirstAttempt: a first attempt that alone takes
// longer than MaxElapsed is not retried, since the bound counts from the
// start of the first attempt, not from its failure.
func TestRetryMaxElapsedCountsFirstAttempt(t *testing.T) {
	tests := []struct {
		name     string
		attempt  time.Duration // how long each attempt takes before it fails
		elapsed  time.Duration
		attempts int
	}{
		{"first attempt past the bound", 150 * time.Millisecond, 100 * time.Millisecond, 1},
		{"retries within the bound", 0, 100 * time.Millisecond, 3},
		{"no bound", 20 * time.Millisecond, -1, 3},
	}
	for _, tt := range tests {
		// In a bubble, where time moves only when every goroutine waits:
		// on a loaded machine, real waits of 10ms can add up past the
		// bound.
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := &retrier{
					policy: Retry{MaxAttempts: 3, BackOff: noJitter(10 * time.Millisecond), MaxElapsed: tt.elapsed},
					pause:  &pauseGate{},
				}
				calls := 0
				n, err := r.do(context.Background(), Position{Page: 2}, func(context.Context) error {
					calls++
					time.Sleep(tt.attempt)
					return errors.New("503")
				})
				var fe *FetchError
				if !errors.As(err, &fe) || n != tt.attempts || calls != tt.attempts {
					t.Fatalf("do = %d attempts (%d calls), %v; want %d attempts and a *FetchError", n, calls, err, tt.attempts)
				}
			})
		})
	}
}

// TestRetryMaxElapsedCutsTheAttempt: MaxElapsed bounds the whole run of a
// page's attempts, the attempt in flight included: an attempt that would
// stall for 5 seconds (a server that never answers, under a long header
// timeout) is cut when the bound runs out, whether it is the first or a
// later one, and the error says so.
func TestRetryMaxElapsedCutsTheAttempt(t *testing.T) {
	const limit = 300 * time.Millisecond
	// In a bubble, the run takes exactly the bound: on a loaded machine,
	// real time would add the scheduler's delays to it.
	synctest.Test(t, func(t *testing.T) {
		for _, stallFrom := range []int{1, 2, 3} {
			r := &retrier{
				policy: Retry{MaxAttempts: 10, BackOff: noJitter(10 * time.Millisecond), MaxElapsed: limit},
				pause:  &pauseGate{},
			}
			calls := 0
			start := time.Now()
			n, err := r.do(context.Background(), Position{Page: 2}, func(ctx context.Context) error {
				calls++
				if calls < stallFrom {
					return errors.New("503")
				}
				select {
				case <-time.After(5 * time.Second):
					return errors.New("no response headers within 5s")
				case <-ctx.Done():
					return ctx.Err()
				}
			})
			took := time.Since(start)
			var fe *FetchError
			if !errors.As(err, &fe) || !errors.Is(err, ErrRetriesExhausted) || n != stallFrom || fe.Attempts != stallFrom {
				t.Fatalf("stall from attempt %d: do = %d attempts, %v; want %d attempts and retries exhausted", stallFrom, n, err, stallFrom)
			}
			if took != limit {
				t.Errorf("stall from attempt %d: do took %v, want MaxElapsed (%v)", stallFrom, took, limit)
			}
			if want := "Retry.MaxElapsed (300ms) reached"; !strings.Contains(err.Error(), want) {
				t.Errorf("stall from attempt %d: error %q does not say %q", stallFrom, err, want)
			}
		}
	})
}

// TestRetryMaxElapsedCountsFromTheFirstAttempt: a pause that another
// worker's Retry-After set holds the first attempt back without eating
// into its bound.
func TestRetryMaxElapsedCountsFromTheFirstAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &retrier{policy: Retry{MaxAttempts: 1, MaxElapsed: 200 * time.Millisecond}, pause: &pauseGate{}}
		r.pause.extend(time.Now().Add(300 * time.Millisecond))
		n, err := r.do(context.Background(), Position{Page: 2}, func(ctx context.Context) error {
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				return fmt.Errorf("the attempt was cut: %w", err)
			}
			return nil
		})
		if err != nil || n != 1 {
			t.Errorf("do = %d attempts, %v; want one attempt that succeeds", n, err)
		}
	})
}

// TestRetryBackOff: a BackOff of one's own gives the waits between a page's
// attempts, a new one for each page, and its Stop ends the retries before
// MaxAttempts; without one, the waits are DefaultBackOff's.
func TestRetryBackOff(t *testing.T) {
	tests := []struct {
		name      string
		policy    Retry
		attempts  int
		waits     func(d time.Duration) bool
		exhausted bool
	}{
		{"constant, stopped after two retries", Retry{MaxAttempts: 10, BackOff: func() backoff.BackOff {
			return backoff.WithMaxRetries(backoff.NewConstantBackOff(3*time.Millisecond), 2)
		}}, 3, func(d time.Duration) bool { return d == 3*time.Millisecond }, true},
		{"the defaults", Retry{MaxAttempts: 2}, 2, func(d time.Duration) bool {
			return d >= 250*time.Millisecond && d <= 750*time.Millisecond // 500ms within 50%
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for page := range 2 { // each page starts with a new BackOff
				var waits []time.Duration
				r := &retrier{policy: tt.policy, pause: &pauseGate{},
					onRetry: func(_ Position, _ int, d time.Duration, _ error) { waits = append(waits, d) }}
				calls := 0
				n, err := r.do(context.Background(), Position{Page: int64(page + 1)}, func(context.Context) error {
					calls++
					return errors.New("503")
				})
				if n != tt.attempts || calls != tt.attempts || !errors.Is(err, ErrRetriesExhausted) != !tt.exhausted {
					t.Fatalf("page %d: do = %d attempts (%d calls), %v; want %d attempts, exhausted %v", page+1, n, calls, err, tt.attempts, tt.exhausted)
				}
				if len(waits) != tt.attempts-1 {
					t.Fatalf("page %d: %d waits %v, want %d", page+1, len(waits), waits, tt.attempts-1)
				}
				for _, d := range waits {
					if !tt.waits(d) {
						t.Errorf("page %d: wait %v", page+1, d)
					}
				}
			}
		})
	}
}
