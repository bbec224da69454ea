package paginate

import (
	"context"
	"errors"
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
			n, err := r.do(context.Background(), Position{Page: 2}, func() error {
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
