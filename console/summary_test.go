package console_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/paginate"
)

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		res  paginate.Result
		err  error
		want []string
	}{
		{
			name: "complete",
			res: paginate.Result{Stream: "user", Items: 200, Pages: 4, Retries: 1, Duration: 41 * time.Millisecond,
				Stop: paginate.StopTotalReached, TotalItems: 200,
				Checkpoint: paginate.Checkpoint{HighWater: "2024-01-02T03:04:05Z", Position: paginate.Position{Since: "2024-01-02T03:04:05Z"}}},
			want: []string{`Sync of "user" complete.`, "records written  200", "pages            4", "retries          1",
				"duration         41ms", "stop reason      total reached", "server total     200 records", "drift            none",
				"high-water mark  2024-01-02T03:04:05Z", "next run         incremental, from 2024-01-02T03:04:05Z"},
		},
		{
			name: "interrupted",
			res:  paginate.Result{Stream: "user", Stop: paginate.StopCancelled, Resumed: true, Checkpoint: paginate.Checkpoint{Position: paginate.Position{Page: 7, Offset: 300}}},
			err:  context.Canceled,
			want: []string{`Sync of "user" interrupted.`, "resumed          yes", "next run         resumes at page 7"},
		},
		{
			name: "timed out",
			res:  paginate.Result{Stream: "user", Stop: paginate.StopCancelled},
			err:  fmt.Errorf("fetch page 3: %w", context.DeadlineExceeded),
			want: []string{`Sync of "user" timed out.`},
		},
		{
			name: "drift",
			res: paginate.Result{Stream: "user", Stop: paginate.StopLastPage, DriftCount: 3,
				Drifts: []paginate.Drift{{Kind: paginate.DriftDuplicate, Position: paginate.Position{Page: 5}, Key: "k1"}}},
			want: []string{"drift            3 signs the data changed during the sync (first: duplicate key k1 on page 5);", "next run         full sync"},
		},
		{
			name: "failed",
			res:  paginate.Result{Stream: "user", Stop: paginate.StopError},
			err:  errors.New("boom"),
			want: []string{`Sync of "user" failed.`},
		},
		{
			name: "restarted",
			res: paginate.Result{Stream: "user", Stop: paginate.StopLastPage, Restarted: &paginate.MismatchError{Stream: "user",
				Changes: []paginate.Change{{Part: "size", Saved: "50", Now: "20"}}}},
			want: []string{`restarted        the settings changed since the checkpoint (size "50", now "20"):`,
				"                 started over from the last completed sync"},
		},
		{
			name: "restarted from the start",
			res: paginate.Result{Stream: "user", Stop: paginate.StopLastPage, Restarted: &paginate.MismatchError{Stream: "user",
				Changes: []paginate.Change{{Part: "size", Saved: "50", Now: "20"}, {Part: "url", Saved: "/users", Now: "/people"}}}},
			want: []string{`restarted        the settings changed since the checkpoint (size "50", now "20"; url "/users", now "/people"):`,
				"                 started over from the start, since what the stream reads or where it goes changed"},
		},
		{
			// A position the API let expire: the run restarted the
			// sync, and the next run starts from the new mark.
			name: "position expired",
			res: paginate.Result{Stream: "user", Stop: paginate.StopNoNextToken, Resumed: true,
				Expired:    &paginate.FetchError{Position: paginate.Position{Token: "/q/01gQ7-40"}, Err: paginate.ErrPositionExpired},
				Checkpoint: paginate.Checkpoint{Position: paginate.Position{Since: "2024-01-02T03:04:05Z"}}},
			want: []string{"restarted        the API no longer knew the sync's place (token /q/01gQ7-40 expired):",
				"                 started over from the last completed sync", "next run         incremental, from 2024-01-02T03:04:05Z"},
		},
		{
			// It expired again after the restart: the checkpoint was
			// saved as a restart's, and the summary promises no resume.
			name: "position expired twice",
			res: paginate.Result{Stream: "user", Stop: paginate.StopError,
				Expired:    &paginate.FetchError{Position: paginate.Position{Token: "/q/01gQ7-40"}, Err: paginate.ErrPositionExpired},
				Checkpoint: paginate.Checkpoint{Position: paginate.Position{Since: "2024-01-02T03:04:05Z"}}},
			err:  &paginate.FetchError{Position: paginate.Position{Token: "/q/01gQ9-20"}, Err: paginate.ErrPositionExpired},
			want: []string{`Sync of "user" failed.`, "next run         incremental, from 2024-01-02T03:04:05Z"},
		},
		{
			name: "stopped early",
			res:  paginate.Result{Stream: "user", Stop: paginate.StopMaxPages, TotalItems: 1},
			want: []string{`Sync of "user" stopped early.`, "server total     1 record\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			console.Summary(&b, tt.res, tt.err)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, b.String())
				}
			}
			// The error is Report's to say, once; advice for Go code
			// (Options.Restart) is not for the command line.
			if strings.Contains(b.String(), "error ") || strings.Contains(b.String(), "Options.") {
				t.Errorf("summary repeats the error or gives Go advice:\n%s", b.String())
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{context.Canceled, 130},
		{errors.Join(errors.New("x"), context.Canceled), 130},
		{context.DeadlineExceeded, 1},
		{errors.New("x"), 1},
	} {
		if got := console.ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
