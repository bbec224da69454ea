package paginate_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pagekit/pagekit/paginate"
)

// counting is a paginator over 1..n, size items a page, with the total;
// failAt, when positive, is an offset whose fetch fails for good.
func counting(n, size int, failAt int64) paginate.Paginator[int] {
	return paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
		if failAt > 0 && pos.Offset == failAt {
			return paginate.Page[int]{}, paginate.Permanent(errors.New("410 Gone"))
		}
		var items []int
		for i := pos.Offset; i < min(pos.Offset+int64(size), int64(n)); i++ {
			items = append(items, int(i)+1)
		}
		next := pos.Offset + int64(len(items))
		return paginate.Page[int]{Items: items, More: next < int64(n), Next: paginate.Position{Offset: next}, TotalItems: int64(n)}, nil
	})
}

// ignoreRunTime leaves out of comparisons what varies from run to run, and
// the fingerprint of the last page, whose value is the runner's business.
var ignoreRunTime = cmp.Options{
	cmpopts.IgnoreFields(paginate.Result{}, "Duration"),
	cmpopts.IgnoreFields(paginate.Checkpoint{}, "LastPage"),
}

func TestIterateResult(t *testing.T) {
	tests := []struct {
		name     string
		p        paginate.Paginator[int]
		stopAt   int // break when the body gets this item; 0 never
		want     []int
		wantRes  paginate.Result
		wantErr  string
		pagesToo bool // run the same case over Pages
	}{
		{
			name: "complete",
			p:    counting(7, 3, 0),
			want: []int{1, 2, 3, 4, 5, 6, 7},
			wantRes: paginate.Result{Stream: "numbers", Pages: 3, Items: 7, Stop: paginate.StopLastPage, TotalItems: 7,
				Checkpoint: paginate.Checkpoint{Stream: "numbers"}},
		},
		{
			// The page being read when the body breaks is not done: the
			// checkpoint points at it.
			name:   "break mid-page",
			p:      counting(7, 3, 0),
			stopAt: 5,
			want:   []int{1, 2, 3, 4, 5},
			wantRes: paginate.Result{Stream: "numbers", Pages: 1, Items: 3, Stop: paginate.StopBreak, TotalItems: 7,
				Checkpoint: paginate.Checkpoint{Stream: "numbers", Position: paginate.Position{Offset: 3}, Items: 3}},
		},
		{
			name:    "failure",
			p:       counting(7, 3, 6),
			want:    []int{1, 2, 3, 4, 5, 6},
			wantErr: "410 Gone",
			wantRes: paginate.Result{Stream: "numbers", Pages: 2, Items: 6, Stop: paginate.StopError, TotalItems: 7,
				Checkpoint: paginate.Checkpoint{Stream: "numbers", Position: paginate.Position{Offset: 6}, Items: 6}},
		},
		{
			name:    "no paginator",
			wantErr: "needs a paginator",
			wantRes: paginate.Result{Stream: "numbers", Stop: paginate.StopError},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := paginate.Iterate(context.Background(), tt.p, paginate.Options[int]{Stream: "numbers"})
			if diff := cmp.Diff(paginate.Result{}, it.Result()); diff != "" {
				t.Errorf("Result before the loop (-want +got):\n%s", diff)
			}
			var got []int
			var loopErr error
			for n, err := range it.All() {
				if err != nil {
					loopErr = err
					break
				}
				got = append(got, n)
				if n == tt.stopAt {
					break
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRes, it.Result(), ignoreRunTime); diff != "" {
				t.Errorf("Result (-want +got):\n%s", diff)
			}
			if tt.wantErr == "" {
				if loopErr != nil || it.Err() != nil {
					t.Errorf("loop error %v, Err %v; want none", loopErr, it.Err())
				}
			} else if loopErr == nil || loopErr != it.Err() || !strings.Contains(loopErr.Error(), tt.wantErr) {
				t.Errorf("loop error %v, Err %v; want the same error, mentioning %q", loopErr, it.Err(), tt.wantErr)
			}
		})
	}
}

// TestIteratePagesResume: Pages with a Store saves a checkpoint after each
// page the body finished; a break leaves the page it was given to the next
// run, which reports it resumed.
func TestIteratePagesResume(t *testing.T) {
	ctx := context.Background()
	store := new(paginate.MemoryStore)
	opts := paginate.Options[int]{Stream: "numbers", Store: store}
	it := paginate.Iterate(ctx, counting(10, 4, 0), opts)
	var pages [][]int
	for page, err := range it.Pages() {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page.Items)
		if len(pages) == 2 {
			break
		}
	}
	if res := it.Result(); res.Pages != 1 || res.Checkpoint.Position.Offset != 4 || res.Stop != paginate.StopBreak {
		t.Errorf("after a break on page 2: %d pages done, checkpoint %v, stop %v; want 1, offset 4, loop left", res.Pages, res.Checkpoint.Position, res.Stop)
	}

	it = paginate.Iterate(ctx, counting(10, 4, 0), opts)
	for page, err := range it.Pages() {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page.Items)
	}
	want := [][]int{{1, 2, 3, 4}, {5, 6, 7, 8}, {5, 6, 7, 8}, {9, 10}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	res := it.Result()
	if !res.Resumed || res.Pages != 2 || res.Items != 6 || res.Stop != paginate.StopLastPage || !res.Checkpoint.Position.IsStart() {
		t.Errorf("resumed run: %+v; want resumed, 2 pages, 6 items, last page, checkpoint back at the start", res)
	}
}

// TestIterateOnce: a second loop over one Iterator gets an error and
// leaves the first run's Result alone.
func TestIterateOnce(t *testing.T) {
	it := paginate.Iterate(context.Background(), counting(2, 5, 0), paginate.Options[int]{})
	for range it.All() {
	}
	first := it.Result()
	var errs []error
	for n, err := range it.Pages() {
		if err == nil {
			t.Errorf("second loop got page %v", n)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "runs once") {
		t.Errorf("second loop: %v; want one error saying an Iterator runs once", errs)
	}
	if diff := cmp.Diff(first, it.Result()); diff != "" || it.Err() != nil {
		t.Errorf("second loop changed the Result (-first +now), Err %v:\n%s", it.Err(), diff)
	}
}

// TestIterateCancel: a cancelled context ends the loop with its error and
// Stop StopCancelled.
func TestIterateCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	it := paginate.Iterate(ctx, counting(100, 10, 0), paginate.Options[int]{})
	var loopErr error
	for n, err := range it.All() {
		if err != nil {
			loopErr = err
			break
		}
		if n == 15 {
			cancel()
		}
	}
	if !errors.Is(loopErr, context.Canceled) || !errors.Is(it.Err(), context.Canceled) || it.Result().Stop != paginate.StopCancelled {
		t.Errorf("loop error %v, Err %v, stop %v; want context.Canceled and cancelled", loopErr, it.Err(), it.Result().Stop)
	}
}

// TestAllRerun: the iterator All returns starts a new run each time it is
// ranged over, as before Iterate existed.
func TestAllRerun(t *testing.T) {
	seq := paginate.All(context.Background(), counting(3, 2, 0), paginate.Options[int]{})
	for range 2 {
		var got []int
		for n, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
		}
		if diff := cmp.Diff([]int{1, 2, 3}, got); diff != "" {
			t.Errorf("items (-want +got):\n%s", diff)
		}
	}
}

// A loop left by break is the caller's choice, not a failure: the run's
// last log line and its done event carry no error.
func TestBreakIsNotAnError(t *testing.T) {
	var logs bytes.Buffer
	var done paginate.Event
	it := paginate.Iterate(context.Background(), newScript(linear(3, 2)), paginate.Options[string]{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Observe: func(e paginate.Event) {
			if e.Kind == paginate.EventDone {
				done = e
			}
		},
	})
	for range it.All() {
		break
	}
	if it.Err() != nil || it.Result().Stop != paginate.StopBreak || it.Result().Stop.Complete() {
		t.Errorf("err %v, stop %v; want no error and StopBreak", it.Err(), it.Result().Stop)
	}
	if done.Kind != paginate.EventDone || done.Err != nil {
		t.Errorf("done event %+v, want one with no error", done)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a break was logged as an error:\n%s", logs.String())
	}
}
