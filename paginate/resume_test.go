package paginate_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// plainStore is a Store that keeps no keys.
type plainStore struct{ paginate.Store }

// keyStoreOf is a KeyStore whose key methods can fail.
type keyStoreOf struct {
	*paginate.MemoryStore
	saveErr, loadErr error
}

func (s keyStoreOf) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	if s.saveErr != nil {
		return s.saveErr
	}
	return s.MemoryStore.SaveKeys(ctx, stream, items, keys)
}

func (s keyStoreOf) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	if s.loadErr != nil {
		return nil, s.loadErr
	}
	return s.MemoryStore.LoadKeys(ctx, stream, upTo)
}

// A sync stopped after two pages of four, during which (or after which)
// "b" of page 1 moved to the end, shifting "e" from page 3 onto page 2: the
// resumed run never reads "e". What it can see is "b" again, if it knows
// that an earlier run committed it.
func TestResumeKeepsTheKeys(t *testing.T) {
	before := map[paginate.Position]*step{
		{}:        {items: []string{"a", "b"}, more: true, next: paginate.Position{Page: 2}},
		{Page: 2}: {items: []string{"c", "d"}, more: true, next: paginate.Position{Page: 3}},
	}
	after := map[paginate.Position]*step{
		{Page: 3}: {items: []string{"f", "g"}, more: true, next: paginate.Position{Page: 4}},
		{Page: 4}: {items: []string{"h", "b"}},
	}
	mark := func(s string) string { return s }
	tests := []struct {
		name  string
		store func() paginate.Store
		// drifts are the kinds the resumed run reports.
		drifts []paginate.DriftKind
		// since is where the sync after the resumed one starts.
		since string
	}{
		{
			name:   "a key store: the moved record is a duplicate",
			store:  func() paginate.Store { return new(paginate.MemoryStore) },
			drifts: []paginate.DriftKind{paginate.DriftDuplicate},
			since:  "a",
		},
		{
			name:   "a store without keys: the resumed sync counts as drifted",
			store:  func() paginate.Store { return plainStore{new(paginate.MemoryStore)} },
			drifts: []paginate.DriftKind{paginate.DriftResume},
			since:  "a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store := tt.store()
			if err := store.Save(ctx, paginate.Checkpoint{Stream: "default", Position: paginate.Position{Since: "a"}, HighWater: "a"}); err != nil {
				t.Fatal(err)
			}
			opts := paginate.Options[string]{Store: store, Key: mark, HighWater: mark, Checks: paginate.Checks[string]{TrackKeys: true}, Limits: paginate.Limits{MaxPages: 2}}
			sink := new(paginate.MemorySink[string])
			if _, err := paginate.Run(ctx, newScript(before), paginate.SinkFunc[string](sink.Write), opts); err != nil {
				t.Fatal(err)
			}
			opts.Limits.MaxPages = 0
			res, err := paginate.Run(ctx, newScript(after), paginate.SinkFunc[string](sink.Write), opts)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []paginate.DriftKind
			for _, d := range res.Drifts {
				kinds = append(kinds, d.Kind)
			}
			if diff := cmp.Diff(tt.drifts, kinds); diff != "" {
				t.Errorf("drifts of the resumed run (-want +got):\n%s", diff)
			}
			if !res.Resumed || res.Checkpoint.Position.Since != tt.since {
				t.Errorf("resumed %v, next sync since %q; want resumed, since %q", res.Resumed, res.Checkpoint.Position.Since, tt.since)
			}
		})
	}
}

// The keys of a page whose commit failed are not taken for committed ones
// by the run that resumes, and a completed sync leaves no keys behind.
func TestResumeKeysOfCommittedPagesOnly(t *testing.T) {
	ctx := context.Background()
	steps := linear(3, 2)
	store := new(paginate.MemoryStore)
	errDisk := errors.New("disk full")
	fail := true
	sink := paginate.SinkFunc[string](func(_ context.Context, items []string) error {
		if fail && slices.Contains(items, "p2-0") {
			return errDisk
		}
		return nil
	})
	key := func(s string) string { return s }
	opts := paginate.Options[string]{Store: store, Key: key, Checks: paginate.Checks[string]{TrackKeys: true}, Group: paginate.Group{Pages: 1}, Concurrency: 1}
	if _, err := paginate.Run(ctx, newScript(steps), sink, opts); !errors.Is(err, errDisk) {
		t.Fatalf("first run: %v, want %v", err, errDisk)
	}
	cp, _, _ := store.Load(ctx, "default")
	if cp.Items != 2 {
		t.Fatalf("checkpoint after the failed commit counts %d items, want 2", cp.Items)
	}
	fail = false
	res, err := paginate.Run(ctx, newScript(steps), sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.DriftCount != 0 {
		t.Errorf("the resumed run reports drift: %v", res.Drifts)
	}
	if keys, _ := store.LoadKeys(ctx, "default", 1<<62); len(keys) != 0 {
		t.Errorf("%d keys kept after the sync completed, want none", len(keys))
	}
}

// A key store that fails stops the run with the error, before the page
// whose keys it could not keep is committed.
func TestResumeKeyStoreErrors(t *testing.T) {
	ctx := context.Background()
	errKeys := errors.New("keys table gone")
	key := func(s string) string { return s }
	for _, tt := range []struct {
		name  string
		store keyStoreOf
		pages int
	}{
		{"save", keyStoreOf{MemoryStore: new(paginate.MemoryStore), saveErr: errKeys}, 0},
		{"load", keyStoreOf{MemoryStore: new(paginate.MemoryStore), loadErr: errKeys}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sink := new(paginate.MemorySink[string])
			res, err := paginate.Run(ctx, newScript(linear(2, 2)), paginate.SinkFunc[string](sink.Write),
				paginate.Options[string]{Store: tt.store, Key: key, Checks: paginate.Checks[string]{TrackKeys: true}})
			if !errors.Is(err, errKeys) || res.Stop != paginate.StopError || res.Pages != tt.pages || len(sink.Items()) != 0 {
				t.Errorf("Run: %v, stop %v, %d pages, %d items written; want %v, an error stop, nothing committed",
					err, res.Stop, res.Pages, len(sink.Items()), errKeys)
			}
		})
	}
}

// describedScript is a script that describes itself.
type describedScript struct {
	*script
	d paginate.Description
}

func (s describedScript) Describe() paginate.Description { return s.d }

// keyedSink is a sink that knows its records' keys, as a table with a
// primary key does.
type keyedSink struct {
	*paginate.MemorySink[string]
}

func (keyedSink) Key(s string) string { k, _, _ := strings.Cut(s, "@"); return k }

// Run turns on the drift detection a sync by position needs from what the
// paginator and the sink say, and warns of what it cannot protect.
func TestSafeDefaults(t *testing.T) {
	ctx := context.Background()
	// "a" is updated during the sync and comes again at the end, at a new
	// mark: a duplicate, with the keys tracked.
	moved := map[paginate.Position]*step{
		{}:        {items: []string{"a@1", "b@2"}, more: true, next: paginate.Position{Page: 2}},
		{Page: 2}: {items: []string{"d@4", "a@5"}},
	}
	unordered := map[paginate.Position]*step{
		{}:        {items: []string{"a@3", "b@2"}, more: true, next: paginate.Position{Page: 2}},
		{Page: 2}: {items: []string{"d@4", "e@5"}},
	}
	mark := func(s string) string { _, m, _ := strings.Cut(s, "@"); return m }
	type want struct {
		Drifts   []paginate.DriftKind
		Warnings []string // a part of each
	}
	tests := []struct {
		name  string
		steps map[paginate.Position]*step
		d     *paginate.Description
		keyed bool
		opts  paginate.Options[string]
		want  want
	}{
		{
			name: "by position, the sink's key: keys tracked",
			d:    &paginate.Description{ByPosition: true, SendsSince: true}, keyed: true,
			opts: paginate.Options[string]{HighWater: mark},
			want: want{Drifts: []paginate.DriftKind{paginate.DriftDuplicate}},
		},
		{
			name: "by position, no key: a warning",
			d:    &paginate.Description{ByPosition: true, SendsSince: true},
			opts: paginate.Options[string]{HighWater: mark},
			want: want{Warnings: []string{"no key is known"}},
		},
		{
			name: "by position, sending Since: the order of the marks, within a page too",
			d:    &paginate.Description{ByPosition: true, SendsSince: true}, keyed: true, steps: unordered,
			opts: paginate.Options[string]{HighWater: mark},
			want: want{Drifts: []paginate.DriftKind{paginate.DriftOutOfOrder}, Warnings: []string{"not serve the records in the order of their marks"}},
		},
		{
			name: "an order of the user's own is not checked within a page",
			d:    &paginate.Description{ByPosition: true, SendsSince: true}, keyed: true, steps: unordered,
			opts: paginate.Options[string]{HighWater: mark, Checks: paginate.Checks[string]{Order: func(a, b string) int { return strings.Compare(mark(a), mark(b)) }}},
		},
		{
			name: "not by position: nothing turned on",
			d:    &paginate.Description{SendsSince: true}, keyed: true,
			opts: paginate.Options[string]{HighWater: mark},
		},
		{
			name: "HighWater that no request sends: a warning",
			d:    &paginate.Description{}, keyed: true,
			opts: paginate.Options[string]{HighWater: mark},
			want: want{Warnings: []string{"every sync reads every record again"}},
		},
		{
			name:  "a paginator that does not describe itself: nothing derived but the key",
			keyed: true,
			opts:  paginate.Options[string]{HighWater: mark},
		},
		{
			name: "a full sync by position: nothing to protect",
			d:    &paginate.Description{ByPosition: true}, keyed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := tt.steps
			if steps == nil {
				steps = moved
			}
			var p paginate.Paginator[string] = newScript(steps)
			if tt.d != nil {
				p = describedScript{newScript(steps), *tt.d}
			}
			var sink paginate.Sink[string] = new(paginate.MemorySink[string])
			if tt.keyed {
				sink = keyedSink{new(paginate.MemorySink[string])}
			}
			res, err := paginate.Run(ctx, p, sink, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := want{}
			for _, d := range res.Drifts {
				got.Drifts = append(got.Drifts, d.Kind)
			}
			for i, w := range res.Warnings {
				if i < len(tt.want.Warnings) && strings.Contains(w, tt.want.Warnings[i]) {
					w = tt.want.Warnings[i]
				}
				got.Warnings = append(got.Warnings, w)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
