package paginate_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

func TestDrift(t *testing.T) {
	p := func(n int64) paginate.Position { return paginate.Position{Page: n, Since: "a"} }
	// Items are "<mark>" strings; their mark is themselves, so Order and
	// HighWater are string comparisons.
	pages := func(ps ...[]string) map[paginate.Position]*step {
		steps := make(map[paginate.Position]*step)
		for i, items := range ps {
			pos := paginate.Position{Page: int64(i + 1)}
			if i == 0 {
				pos = paginate.Position{}
			}
			steps[pos] = &step{items: items, more: i < len(ps)-1, next: paginate.Position{Page: int64(i + 2)}}
		}
		return steps
	}
	type want struct {
		Drifts []paginate.Drift
		Next   paginate.Checkpoint
	}
	tests := []struct {
		name  string
		steps map[paginate.Position]*step
		opts  paginate.Options[string]
		want  want
	}{
		{
			name:  "no drift advances Since to the high-water mark",
			steps: pages([]string{"b", "c"}, []string{"d", "e"}),
			opts:  paginate.Options[string]{Checks: paginate.Checks[string]{TrackKeys: true}},
			want:  want{Next: paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "e"}, HighWater: "e"}},
		},
		{
			name:  "a record seen twice keeps Since for a re-read",
			steps: pages([]string{"b", "c"}, []string{"d", "e"}, []string{"f", "c"}),
			opts:  paginate.Options[string]{Checks: paginate.Checks[string]{TrackKeys: true}},
			want: want{
				Drifts: []paginate.Drift{{Kind: paginate.DriftDuplicate, Position: p(3), Key: "c"}},
				Next:   paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "a"}, HighWater: "f"},
			},
		},
		{
			name:  "a page that starts before the last one ended",
			steps: pages([]string{"b", "d"}, []string{"c", "e"}),
			opts:  paginate.Options[string]{Checks: paginate.Checks[string]{Order: strings.Compare}},
			want: want{
				Drifts: []paginate.Drift{{Kind: paginate.DriftOutOfOrder, Position: p(2), Key: "c"}},
				Next:   paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "a"}, HighWater: "e"},
			},
		},
		{
			name:  "duplicates are not tracked unless asked",
			steps: pages([]string{"b", "c"}, []string{"c", "d"}),
			want:  want{Next: paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "d"}, HighWater: "d"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := new(paginate.MemorySink[string])
			if err := sink.Save(context.Background(), paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "a"}, HighWater: "a"}); err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.Key = func(s string) string { return s }
			opts.HighWater = func(s string) string { return s }
			var events int
			opts.Observe = func(e paginate.Event) {
				if e.Kind == paginate.EventDrift {
					events++
				}
			}
			res, err := paginate.Run(context.Background(), newScript(tt.steps), sink, opts)
			if err != nil {
				t.Fatal(err)
			}
			cp, _, _ := sink.Load(context.Background(), "default")
			if diff := cmp.Diff(tt.want, want{Drifts: res.Drifts, Next: cp}); diff != "" {
				t.Errorf("drift (-want +got):\n%s", diff)
			}
			if res.DriftCount != len(tt.want.Drifts) || events != len(tt.want.Drifts) {
				t.Errorf("DriftCount = %d, drift events = %d; want %d", res.DriftCount, events, len(tt.want.Drifts))
			}
		})
	}
}

func TestDriftSurvivesResume(t *testing.T) {
	// A sync drifts on page 2, stops at max pages, and resumes: the
	// completed sync must still not advance Since.
	steps := map[paginate.Position]*step{
		{}:        {items: []string{"b", "c"}, more: true, next: paginate.Position{Page: 2}},
		{Page: 2}: {items: []string{"c", "d"}, more: true, next: paginate.Position{Page: 3}},
		{Page: 3}: {items: []string{"e"}},
	}
	sink := new(paginate.MemorySink[string])
	opts := paginate.Options[string]{Key: func(s string) string { return s }, HighWater: func(s string) string { return s }, Checks: paginate.Checks[string]{TrackKeys: true}, Limits: paginate.Limits{MaxPages: 2}}
	if _, err := paginate.Run(context.Background(), newScript(steps), sink, opts); err != nil {
		t.Fatal(err)
	}
	opts.Limits.MaxPages = 0
	if _, err := paginate.Run(context.Background(), newScript(steps), sink, opts); err != nil {
		t.Fatal(err)
	}
	cp, _, _ := sink.Load(context.Background(), "default")
	if diff := cmp.Diff(paginate.Checkpoint{Stream: "default", HighWater: "e"}, cp); diff != "" {
		t.Errorf("checkpoint after a drifted sync (-want +got):\n%s", diff)
	}
}

// TrackKeys past the exact set: no duplicate reported among a million
// distinct keys, and every key seen again is reported, in memory that does
// not grow with the keys.
func TestTrackKeysMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("a million keys")
	}
	const n, size = 1_000_000, 10_000
	p := paginate.PaginatorFunc[int](func(_ context.Context, pos paginate.Position) (paginate.Page[int], error) {
		start := int(pos.Offset)
		if start >= n {
			// Then the first key of every page again.
			var again []int
			for i := 0; i < n; i += size {
				again = append(again, i)
			}
			return paginate.Page[int]{Items: again}, nil
		}
		items := make([]int, size)
		for i := range items {
			items[i] = start + i
		}
		return paginate.Page[int]{Items: items, More: true, Next: paginate.Position{Offset: int64(start + size)}}, nil
	})
	res, err := paginate.Run(context.Background(), p, paginate.SinkFunc[int](func(context.Context, []int) error { return nil }),
		paginate.Options[int]{Key: strconv.Itoa, Checks: paginate.Checks[int]{TrackKeys: true}, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := n / size; res.DriftCount != want {
		t.Errorf("%d duplicates reported, want the %d keys served twice", res.DriftCount, want)
	}
	for _, d := range res.Drifts {
		if k, _ := strconv.Atoi(d.Key); k%size != 0 || d.Position.Offset != n {
			t.Errorf("drift %+v: not a key served twice", d)
		}
	}
}
