package paginate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

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
		t.Run(tt.name, func(t *testing.T) {
			r := &retrier{
				policy: Retry{MaxAttempts: 3, InitialInterval: 10 * time.Millisecond, Jitter: -1, MaxElapsed: tt.elapsed},
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
	}
}

// TestRetryMaxElapsedCutsTheAttempt: MaxElapsed bounds the whole run of a
// page's attempts, the attempt in flight included: an attempt that would
// stall for 5 seconds (a server that never answers, under a long header
// timeout) is cut when the bound runs out, whether it is the first or a
// later one, and the error says so.
func TestRetryMaxElapsedCutsTheAttempt(t *testing.T) {
	const limit = 300 * time.Millisecond
	for _, stallFrom := range []int{1, 2, 3} {
		r := &retrier{
			policy: Retry{MaxAttempts: 10, InitialInterval: 10 * time.Millisecond, Jitter: -1, MaxElapsed: limit},
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
		if took < limit || took > limit+200*time.Millisecond {
			t.Errorf("stall from attempt %d: do took %v, want about MaxElapsed (%v)", stallFrom, took, limit)
		}
		if want := "Retry.MaxElapsed (300ms) reached"; !strings.Contains(err.Error(), want) {
			t.Errorf("stall from attempt %d: error %q does not say %q", stallFrom, err, want)
		}
	}
}

// TestRetryMaxElapsedCountsFromTheFirstAttempt: a pause that another
// worker's Retry-After set holds the first attempt back without eating
// into its bound.
func TestRetryMaxElapsedCountsFromTheFirstAttempt(t *testing.T) {
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
}
