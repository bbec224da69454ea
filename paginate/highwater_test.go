package paginate_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// A page's own mark (Page.HighWater) joins its records' marks in the
// checkpoint, and a completed sync starts the next one there, under the
// same drift and depth-limit rules.
func TestPageHighWater(t *testing.T) {
	// Items are "<mark>" strings; with marks on, each is its own mark.
	// The sync starts from Since "a" and ends at page 2.
	pages := func(mark1, mark2 string, stop paginate.StopReason, items ...[]string) map[paginate.Position]*step {
		return map[paginate.Position]*step{
			{}:        {items: items[0], more: true, next: paginate.Position{Page: 2}, highWater: mark1},
			{Page: 2}: {items: items[1], stop: stop, highWater: mark2},
		}
	}
	cp := func(since, hw string) paginate.Checkpoint {
		return paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: since}, HighWater: hw}
	}
	tests := []struct {
		name     string
		steps    map[paginate.Position]*step
		marks    bool // Options.HighWater on
		key      bool // Options.Key and TrackKeys on
		maxPages int
		want     paginate.Checkpoint
		stop     paginate.StopReason
	}{
		{
			name:  "the last page's mark above the records' is the next Since",
			steps: pages("", "m", paginate.StopNone, []string{"b", "c"}, []string{"d", "e"}),
			marks: true,
			want:  cp("m", "m"), stop: paginate.StopLastPage,
		},
		{
			name:  "a record above the page's mark wins",
			steps: pages("", "d", paginate.StopNone, []string{"b", "c"}, []string{"e", "f"}),
			marks: true,
			want:  cp("f", "f"), stop: paginate.StopLastPage,
		},
		{
			name:  "without record marks the page's mark alone advances Since",
			steps: pages("", "m", paginate.StopNone, []string{"b", "c"}, []string{"d", "e"}),
			want:  cp("m", "m"), stop: paginate.StopLastPage,
		},
		{
			name:  "a mark on an earlier page counts too",
			steps: pages("m", "", paginate.StopNone, []string{"b", "c"}, []string{"d", "e"}),
			marks: true,
			want:  cp("m", "m"), stop: paginate.StopLastPage,
		},
		{
			name:  "a mark below the saved high-water mark does not lower it",
			steps: pages("", "0", paginate.StopNone, []string{"A"}, []string{"B"}),
			want:  cp("a", "a"), stop: paginate.StopLastPage,
		},
		{
			name:  "a drifted sync keeps its Since",
			steps: pages("", "m", paginate.StopNone, []string{"b", "c"}, []string{"c", "d"}),
			marks: true, key: true,
			want: cp("a", "m"), stop: paginate.StopLastPage,
		},
		{
			name:  "a sync ended at the paginator's depth limit keeps its Since",
			steps: pages("", "m", paginate.StopMaxPages, []string{"b", "c"}, []string{"d", "e"}),
			marks: true,
			want:  cp("a", "m"), stop: paginate.StopDepthLimit,
		},
		{
			name:  "a sync stopped part way keeps the mark for when it completes",
			steps: pages("m", "", paginate.StopNone, []string{"b", "c"}, []string{"d", "e"}),
			marks: true, maxPages: 1,
			want: paginate.Checkpoint{Stream: "default", Position: paginate.Position{Page: 2, Since: "a"}, HighWater: "m", Items: 2},
			stop: paginate.StopMaxPages,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			sink := new(paginate.MemorySink[string])
			if err := sink.Save(ctx, cp("a", "a")); err != nil {
				t.Fatal(err)
			}
			opts := paginate.Options[string]{Limits: paginate.Limits{MaxPages: tt.maxPages}}
			if tt.marks {
				opts.HighWater = func(s string) string { return s }
			}
			if tt.key {
				opts.Key = func(s string) string { return s }
				opts.Checks.TrackKeys = true
			}
			res, err := paginate.Run(ctx, newScript(tt.steps), sink, opts)
			if err != nil {
				t.Fatal(err)
			}
			saved, _, _ := sink.Load(ctx, "default")
			saved.LastPage = 0 // the fingerprint is not under test
			if diff := cmp.Diff(tt.want, saved); diff != "" {
				t.Errorf("checkpoint (-want +got):\n%s", diff)
			}
			if res.Stop != tt.stop {
				t.Errorf("stop %v, want %v", res.Stop, tt.stop)
			}
		})
	}
}

// The iterators save the same checkpoint as Run.
func TestPageHighWaterIterate(t *testing.T) {
	steps := map[paginate.Position]*step{
		{}:        {items: []string{"b"}, more: true, next: paginate.Position{Page: 2}},
		{Page: 2}: {items: []string{"c"}, highWater: "m"},
	}
	store := new(paginate.MemoryStore)
	var got []string
	for s, err := range paginate.All(context.Background(), newScript(steps), paginate.Options[string]{Store: store}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	cp, _, _ := store.Load(context.Background(), "default")
	if strings.Join(got, ",") != "b,c" || cp.Position.Since != "m" || cp.HighWater != "m" {
		t.Errorf("items %v, checkpoint %+v; want b,c and Since m", got, cp)
	}
}
