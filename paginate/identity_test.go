package paginate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// described is a paginator that describes itself for checkpoints.
type described struct {
	paginate.Paginator[string]
	id paginate.Identity
}

func (d described) Identity() paginate.Identity { return d.id }

// named is a sink that names its destination.
type named struct {
	paginate.Sink[string]
	table string
}

func (n named) Identity() paginate.Identity { return paginate.Identity{"table": n.table} }

// failAt is a sink that fails every write of the n-th page (1-based) of
// linear's pages, alone or in a group.
type failAt struct {
	n     int
	items []string
}

var errSinkDown = errors.New("sink down")

func (s *failAt) Write(_ context.Context, items []string) error {
	if s.n > 0 && slices.ContainsFunc(items, func(it string) bool { return strings.HasPrefix(it, fmt.Sprintf("p%d-", s.n)) }) {
		return errSinkDown
	}
	s.items = append(s.items, items...)
	return nil
}

// A checkpoint saved by other settings is refused, with what changed, and
// Restart (or a RestartingStore) starts over: from the last completed mark
// when only the paging changed, from the very start when what the stream
// reads did; settings that do not move positions do not count, and a
// completed sync's mark carries over a change of the paging.
func TestCheckpointIdentity(t *testing.T) {
	ctx := context.Background()
	size50 := paginate.Identity{"paginator": "script", "size": "50"}
	size100 := paginate.Identity{"paginator": "script", "size": "100"}
	tests := []struct {
		name        string
		saved       paginate.Identity // nil: a checkpoint without an identity
		now         paginate.Identity
		savedAt     paginate.Position // zero: page 3 of a sync since m0
		opts        paginate.Options[string]
		restarting  bool              // the store is a RestartingStore
		wantChanges []paginate.Change // nil: the run resumes
		wantFirst   paginate.Position
	}{
		{name: "same settings resume", saved: size50, now: size50, wantFirst: paginate.Position{Page: 3, Since: "m0"}},
		{
			name: "retries and concurrency are not part of it", saved: size50, now: size50,
			opts:      paginate.Options[string]{Concurrency: 1, Prefetch: 3, Retry: paginate.Retry{MaxAttempts: 2}},
			wantFirst: paginate.Position{Page: 3, Since: "m0"},
		},
		{name: "a checkpoint without identity resumes", now: size50, wantFirst: paginate.Position{Page: 3, Since: "m0"}},
		{
			name: "a part only one side names is not compared", saved: size50,
			now:       paginate.Identity{"paginator": "script", "size": "50", "placement": "query"},
			wantFirst: paginate.Position{Page: 3, Since: "m0"},
		},
		{
			name: "page size changed", saved: size50, now: size100,
			wantChanges: []paginate.Change{{Part: "size", Saved: "50", Now: "100"}},
		},
		{
			name: "restart from the last completed mark", saved: size50, now: size100,
			opts:        paginate.Options[string]{Restart: true},
			wantChanges: []paginate.Change{{Part: "size", Saved: "50", Now: "100"}},
			wantFirst:   paginate.Position{Since: "m0"},
		},
		{
			name: "a completed sync's mark carries over a page size change", saved: size50, now: size100,
			savedAt: paginate.Position{Since: "m0"}, wantFirst: paginate.Position{Since: "m0"},
		},
		{
			name:    "a completed sync's mark carries over another paginator and its parameters",
			saved:   paginate.Identity{"paginator": "page-number", "params": "page=query:page", "first": "1", "url": "/users"},
			now:     paginate.Identity{"paginator": "offset", "params": "offset=query:offset", "overlap": "2", "url": "/users"},
			savedAt: paginate.Position{Since: "m0"}, wantFirst: paginate.Position{Since: "m0"},
		},
		{
			name:  "a completed sync's checkpoint is refused by another endpoint",
			saved: paginate.Identity{"size": "50", "url": "/users"}, now: paginate.Identity{"size": "100", "url": "/users/active"},
			savedAt:     paginate.Position{Since: "m0"},
			wantChanges: []paginate.Change{{Part: "url", Saved: "/users", Now: "/users/active"}},
		},
		{
			name:  "restart after another endpoint reads from the very start",
			saved: paginate.Identity{"size": "50", "url": "/users"}, now: paginate.Identity{"size": "100", "url": "/users/active"},
			opts:        paginate.Options[string]{Restart: true},
			wantChanges: []paginate.Change{{Part: "size", Saved: "50", Now: "100"}, {Part: "url", Saved: "/users", Now: "/users/active"}},
			wantFirst:   paginate.Position{},
		},
		{
			name: "a store that restarts streams restarts from the last completed mark", saved: size50, now: size100,
			restarting:  true,
			wantChanges: []paginate.Change{{Part: "size", Saved: "50", Now: "100"}},
			wantFirst:   paginate.Position{Since: "m0"},
		},
		{
			name:  "Options.Identity is part of it",
			saved: paginate.Identity{"paginator": "script", "size": "50", "endpoint": "/users"},
			now:   size50, opts: paginate.Options[string]{Identity: paginate.Identity{"endpoint": "/orders"}},
			wantChanges: []paginate.Change{{Part: "endpoint", Saved: "/users", Now: "/orders"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript(linear(4, 2))
			sink := new(paginate.MemorySink[string])
			saved := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3, Since: "m0"}, HighWater: "m9"}
			if tt.savedAt != (paginate.Position{}) {
				saved.Position = tt.savedAt
			}
			if tt.saved != nil {
				saved.Identity = tt.saved.String()
			}
			if err := sink.Save(ctx, saved); err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.Stream, opts.Retry = "users", fast
			var dst paginate.Sink[string] = sink
			if tt.restarting {
				dst = restartingSink{sink}
			}
			res, err := paginate.Run(ctx, described{s, tt.now}, dst, opts)

			restarts := opts.Restart || tt.restarting
			var mm *paginate.MismatchError
			switch {
			case tt.wantChanges == nil && err != nil:
				t.Fatalf("Run: %v", err)
			case tt.wantChanges == nil && res.Restarted != nil:
				t.Errorf("Result.Restarted = %v, want a resume", res.Restarted)
			case tt.wantChanges != nil && !restarts:
				if !errors.Is(err, paginate.ErrCheckpointMismatch) || !errors.As(err, &mm) {
					t.Fatalf("Run error = %v, want a *MismatchError", err)
				}
				if len(s.requested()) != 0 {
					t.Errorf("requested %v, want nothing fetched", s.requested())
				}
				if cp, _, _ := sink.Load(ctx, "users"); cp != saved {
					t.Errorf("checkpoint = %+v, want it untouched: %+v", cp, saved)
				}
			case restarts:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				mm = res.Restarted
				if mm == nil {
					t.Fatal("Result.Restarted is nil after a restart")
				}
			}
			if mm != nil {
				if diff := cmp.Diff(tt.wantChanges, mm.Changes); diff != "" {
					t.Errorf("changes (-want +got):\n%s", diff)
				}
			}
			if req := s.requested(); tt.wantChanges == nil || restarts {
				if len(req) == 0 || req[0] != tt.wantFirst {
					t.Errorf("first request %v, want %v", req, tt.wantFirst)
				}
				cp, _, _ := sink.Load(ctx, "users")
				if cp.Identity != tt.now.String() {
					t.Errorf("saved identity %q, want %q", cp.Identity, tt.now.String())
				}
			}
		})
	}
}

// restartingSink is a MemorySink whose store restarts streams, as a
// platform's does.
type restartingSink struct{ *paginate.MemorySink[string] }

func (restartingSink) RestartsStreams() bool { return true }

func TestMismatchErrorText(t *testing.T) {
	err := &paginate.MismatchError{Stream: "users", Position: paginate.Position{Page: 5},
		Changes: []paginate.Change{{Part: "size", Saved: "50", Now: "100"}, {Part: "table", Saved: "a", Now: "b"}}}
	want := `checkpoint was saved by other settings: stream "users" was saved at page 5 with size "50", now "100"; table "a", now "b"; set Options.Restart to start the stream over (from its last completed sync when only the paging changed), or use another Stream`
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
}

// A new destination holds none of the stream's data: a restart reads it
// all, not from the old destination's mark.
func TestRestartNewDestination(t *testing.T) {
	ctx := context.Background()
	store := new(paginate.MemoryStore)
	old := paginate.Identity{"table": "a"}
	if err := store.Save(ctx, paginate.Checkpoint{Stream: "s", Position: paginate.Position{Page: 2, Since: "m5"}, HighWater: "m7", Identity: old.String()}); err != nil {
		t.Fatal(err)
	}
	s := newScript(linear(2, 1))
	res, err := paginate.Run(ctx, s, named{new(paginate.MemorySink[string]), "b"},
		paginate.Options[string]{Stream: "s", Store: store, Restart: true, Retry: fast})
	if err != nil {
		t.Fatal(err)
	}
	if req := s.requested(); req[0] != (paginate.Position{}) {
		t.Errorf("first request %v, want the start with no Since", req[0])
	}
	if res.Restarted == nil || res.Items != 2 {
		t.Errorf("Restarted %v, %d items; want a restart that read both items", res.Restarted, res.Items)
	}
}

// Two sinks synced without a Stream, sharing one store, keep their own
// checkpoints: the stream is named after each sink's table.
func TestDefaultStreamIsTheTable(t *testing.T) {
	ctx := context.Background()
	store := new(paginate.MemoryStore)
	steps := linear(5, 2)

	// Table a stops at page 3 with its checkpoint there.
	a := &failAt{n: 3}
	res, err := paginate.Run(ctx, newScript(steps), named{a, "a"}, paginate.Options[string]{Store: store, Retry: fast})
	if !errors.Is(err, errSinkDown) || res.Stream != "a" {
		t.Fatalf("run a: stream %q, err %v; want stream a and the sink error", res.Stream, err)
	}
	// Table b syncs everything, from the start.
	b := &failAt{}
	res, err = paginate.Run(ctx, newScript(steps), named{b, "b"}, paginate.Options[string]{Store: store, Retry: fast})
	if err != nil || res.Stream != "b" || res.Resumed {
		t.Fatalf("run b: stream %q, resumed %v, err %v", res.Stream, res.Resumed, err)
	}
	if diff := cmp.Diff(itemsOf(steps, 1, 2, 3, 4, 5), b.items); diff != "" {
		t.Errorf("table b (-want +got):\n%s", diff)
	}
	// Table a resumes at its own page 3, the sink now up.
	a.n = 0
	s := newScript(steps)
	if _, err := paginate.Run(ctx, s, named{a, "a"}, paginate.Options[string]{Store: store, Retry: fast}); err != nil {
		t.Fatal(err)
	}
	if req := s.requested(); req[0] != (paginate.Position{Page: 3}) {
		t.Errorf("table a resumed at %v, want page 3", req[0])
	}
	if diff := cmp.Diff(itemsOf(steps, 1, 2, 3, 4, 5), a.items); diff != "" {
		t.Errorf("table a (-want +got):\n%s", diff)
	}
}
