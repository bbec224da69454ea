package connectortest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/connector/connectortest"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/memory"
	"github.com/pagekit/pagekit/sink/schema"
)

type rec struct {
	ID string `pagekit:",pk"`
}

func TestCrashLandsTheArmedCommitAndNothingAfter(t *testing.T) {
	dst := memory.New(schema.Must(schema.Derive[rec]("recs")), memory.Config[rec]{})
	var crash connectortest.Crash
	w := connectortest.Wrap[rec](&crash, dst)
	ctx := context.Background()
	cancelled := false
	crash.Arm(2, func() { cancelled = true })
	cp := func(s string) paginate.Checkpoint { return paginate.Checkpoint{Stream: s} }
	if err := w.Commit(ctx, []rec{{"a"}}, cp("s")); err != nil || cancelled {
		t.Fatalf("first commit: %v, cancelled %v", err, cancelled)
	}
	if err := w.Save(ctx, cp("t")); err != nil || !cancelled || !crash.Crashed() {
		t.Fatalf("second commit: %v, cancelled %v, crashed %v", err, cancelled, crash.Crashed())
	}
	if err := w.Commit(ctx, []rec{{"b"}}, cp("s")); !errors.Is(err, connectortest.ErrCrash) {
		t.Fatalf("commit after the crash: %v", err)
	}
	if err := w.Write(ctx, []rec{{"c"}}); !errors.Is(err, connectortest.ErrCrash) {
		t.Fatalf("write after the crash: %v", err)
	}
	if err := w.SaveKeys(ctx, "s", 2, []uint64{1}); !errors.Is(err, connectortest.ErrCrash) {
		t.Fatalf("keys saved after the crash: %v", err)
	}
	if rows := dst.Rows(); len(rows) != 1 || rows[0].ID != "a" || crash.Commits() != 2 {
		t.Errorf("rows %v after %d commits: want only a, 2 commits", rows, crash.Commits())
	}
	if _, found, _ := w.Load(ctx, "t"); !found {
		t.Errorf("the save that reached the crash did not land")
	}
	crash.Arm(0, nil)
	if err := w.Commit(ctx, []rec{{"d"}}, cp("s")); err != nil {
		t.Errorf("after Arm(0): %v", err)
	}
	if w.Identity()["table"] != "recs" {
		t.Errorf("identity %v, want the destination's", w.Identity())
	}
}

// TestCrashingKeepsTheKeys checks that a destination behind a Crash still
// keeps the keys of a sync in progress (paginate.KeyStore), so that a
// resumed run's drift detection spans the crash as it would without it.
func TestCrashingKeepsTheKeys(t *testing.T) {
	dst := memory.New(schema.Must(schema.Derive[rec]("recs")), memory.Config[rec]{})
	var w paginate.Store = connectortest.Wrap[rec](new(connectortest.Crash), dst)
	ks, ok := w.(paginate.KeyStore)
	if !ok {
		t.Fatal("Crashing is not a paginate.KeyStore")
	}
	ctx := context.Background()
	if err := ks.SaveKeys(ctx, "s", 2, []uint64{7, 8}); err != nil {
		t.Fatal(err)
	}
	keys, err := dst.LoadKeys(ctx, "s", 2)
	if err != nil || len(keys) != 2 {
		t.Fatalf("the destination holds keys %v (%v), want 2", keys, err)
	}
	if keys, err := ks.LoadKeys(ctx, "s", 2); err != nil || len(keys) != 2 {
		t.Fatalf("LoadKeys through the crash: %v (%v), want 2 keys", keys, err)
	}
}

// TestCrashingKeepsTheKey checks that a destination behind a Crash keeps
// its records' key (paginate.Keyer) and its table (connector.Tabler), so
// that a run behind it gets the drift detection the runner turns on
// without it: a sync by position with HighWater, whose source shifts a
// record onto the next page, sees it again as a duplicate, with no warning
// that no key is known.
func TestCrashingKeepsTheKey(t *testing.T) {
	dst := memory.New(schema.Must(schema.Derive[rec]("recs")), memory.Config[rec]{})
	w := connectortest.Wrap[rec](new(connectortest.Crash), dst)
	if _, ok := w.(paginate.Keyer[rec]); !ok {
		t.Error("Crashing hides the destination's Key")
	}
	if _, ok := w.(connector.Tabler); !ok {
		t.Error("Crashing hides the destination's Table")
	}
	res, err := paginate.Run(context.Background(), shifting{}, w, paginate.Options[rec]{HighWater: func(r rec) string { return r.ID }})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []paginate.DriftKind
	for _, d := range res.Drifts {
		kinds = append(kinds, d.Kind)
	}
	if diff := cmp.Diff([]paginate.DriftKind{paginate.DriftDuplicate}, kinds); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("warnings %q, want none", res.Warnings)
	}
	// Behind a Crash, a destination without a key has none either.
	plain := connectortest.Wrap[rec](new(connectortest.Crash), &paginate.MemorySink[rec]{})
	if _, ok := plain.(paginate.Keyer[rec]); ok {
		t.Error("Crashing of a destination without a key has a Key")
	}
}

// shifting reads by page number with Since, and its page 2 starts with the
// last record of page 1, as when a record moved behind the position.
type shifting struct{}

func (shifting) Describe() paginate.Description {
	return paginate.Description{ByPosition: true, SendsSince: true}
}

func (shifting) Fetch(_ context.Context, pos paginate.Position) (paginate.Page[rec], error) {
	if pos.Page <= 1 {
		return paginate.Page[rec]{Items: []rec{{"a"}, {"b"}}, More: true, Next: paginate.Position{Page: 2}}, nil
	}
	return paginate.Page[rec]{Items: []rec{{"b"}, {"c"}}}, nil
}
