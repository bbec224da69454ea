package forward_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/internal/forward"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// capabilities lists the optional interfaces of a paginator or a
// destination that x has, by the names the runner and the connector know
// them by.
func capabilities(x any) []string {
	var out []string
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"Identifier", is[paginate.Identifier](x)},
		{"Validator", is[paginate.Validator](x)},
		{"Describer", is[paginate.Describer](x)},
		{"Planner", is[paginate.Planner](x)},
		{"Keyer", is[paginate.Keyer[string]](x)},
		{"KeyStore", is[paginate.KeyStore](x)},
		{"RestartingStore", is[paginate.RestartingStore](x)},
		{"Tabler", is[interface{ Table() schema.Table }](x)},
		{"Unlocker", is[interface {
			Unlock(context.Context, string) error
		}](x)},
	} {
		if c.ok {
			out = append(out, c.name)
		}
	}
	return out
}

func is[I any](x any) bool {
	_, ok := x.(I)
	return ok
}

// pages is a paginator of one page, "a" and "b".
type pages struct{}

func (pages) Fetch(context.Context, paginate.Position) (paginate.Page[string], error) {
	return paginate.Page[string]{Items: []string{"a", "b"}}, nil
}

type identified struct{ pages }

func (identified) Identity() paginate.Identity { return paginate.Identity{"api": "x"} }

var errInvalid = errors.New("invalid")

type validated struct{ pages }

func (validated) Validate() error { return errInvalid }

type described struct{ pages }

func (described) Describe() paginate.Description {
	return paginate.Description{ByPosition: true, SendsSince: true}
}

type planned struct{ pages }

func (planned) Plan(paginate.Position, paginate.PageInfo) iter.Seq[paginate.Position] {
	return func(yield func(paginate.Position) bool) { yield(paginate.Position{Page: 7}) }
}

type plannedDescribed struct {
	planned
	described
}

func (plannedDescribed) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[string], error) {
	return pages{}.Fetch(ctx, pos)
}

// TestPaginator: a wrapped paginator has every optional interface the
// runner asks of a paginator that the wrapped one has, and answers as it
// does; Describe and Plan, whose presence alone changes what the runner
// does, only when the wrapped one has them. Its Fetch is the wrapper's.
func TestPaginator(t *testing.T) {
	always := []string{"Identifier", "Validator"}
	for _, tc := range []struct {
		name string
		p    paginate.Paginator[string]
		want []string
	}{
		{"plain", pages{}, always},
		{"identified", identified{}, always},
		{"validated", validated{}, always},
		{"described", described{}, append(slices.Clone(always), "Describer")},
		{"planned", planned{}, append(slices.Clone(always), "Planner")},
		{"planned and described", plannedDescribed{}, append(slices.Clone(always), "Describer", "Planner")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fetched := 0
			w := forward.Paginator(tc.p, func(ctx context.Context, pos paginate.Position) (paginate.Page[string], error) {
				fetched++
				return tc.p.Fetch(ctx, pos)
			})
			if diff := cmp.Diff(tc.want, capabilities(w)); diff != "" {
				t.Errorf("capabilities (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(forward.Identity(tc.p), w.(paginate.Identifier).Identity()); diff != "" {
				t.Errorf("identity (-wrapped +wrapper):\n%s", diff)
			}
			var wantErr error
			if v, ok := tc.p.(paginate.Validator); ok {
				wantErr = v.Validate()
			}
			if err := w.(paginate.Validator).Validate(); err != wantErr {
				t.Errorf("Validate = %v, want %v", err, wantErr)
			}
			if d, ok := tc.p.(paginate.Describer); ok && w.(paginate.Describer).Describe() != d.Describe() {
				t.Errorf("Describe = %+v, want %+v", w.(paginate.Describer).Describe(), d.Describe())
			}
			if _, ok := tc.p.(paginate.Planner); ok {
				got := slices.Collect(w.(paginate.Planner).Plan(paginate.Position{}, paginate.PageInfo{}))
				if diff := cmp.Diff([]paginate.Position{{Page: 7}}, got); diff != "" {
					t.Errorf("Plan (-want +got):\n%s", diff)
				}
			}
			if _, err := w.Fetch(context.Background(), paginate.Position{}); err != nil || fetched != 1 {
				t.Errorf("Fetch: %v, the wrapper's fetch called %d times, want once", err, fetched)
			}
		})
	}
}

// TestPaginatorRun: a sync by position with HighWater, through a wrapper
// of a paginator that says so and a sink that knows its keys, gets the
// drift detection that the runner turns on by itself: a record that comes
// again on the next page is a duplicate. A wrapper that hid Describe
// would leave the run unprotected, and the record unseen.
func TestPaginatorRun(t *testing.T) {
	p := shifting{}
	w := forward.Paginator[string](p, p.Fetch)
	mark := func(s string) string { return s }
	res, err := paginate.Run(context.Background(), w, keyedSink{new(paginate.MemorySink[string])}, paginate.Options[string]{HighWater: mark})
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
}

// shifting reads by page number, and its page 2 starts with the last
// record of page 1, as when a record moved behind the position.
type shifting struct{ described }

func (shifting) Fetch(_ context.Context, pos paginate.Position) (paginate.Page[string], error) {
	if pos.Page <= 1 {
		return paginate.Page[string]{Items: []string{"a", "b"}, More: true, Next: paginate.Position{Page: 2}}, nil
	}
	return paginate.Page[string]{Items: []string{"b", "c"}}, nil
}

// keyedSink is a MemorySink whose records are their own keys.
type keyedSink struct{ *paginate.MemorySink[string] }

func (keyedSink) Key(s string) string { return s }

// dest is a destination: a MemorySink, with a key and a table when set.
type dest struct {
	*paginate.MemorySink[string]
}

func (dest) Unlock(context.Context, string) error { return nil }
func (dest) Identity() paginate.Identity          { return paginate.Identity{"table": "t"} }

type keyedDest struct{ dest }

func (keyedDest) Key(s string) string { return "k" + s }

type tableDest struct{ dest }

func (tableDest) Table() schema.Table { return schema.Table{Name: "t"} }

// restartingDest restarts streams saved by other settings, as a
// platform's store does.
type restartingDest struct{ dest }

func (restartingDest) RestartsStreams() bool { return true }

type keyedTableDest struct{ dest }

func (keyedTableDest) Key(s string) string { return "k" + s }
func (keyedTableDest) Table() schema.Table { return schema.Table{Name: "t"} }

// wrapper is a destination's wrapper: it forwards what it must with the
// package's functions.
type wrapper struct {
	paginate.Sink[string]
	paginate.Committer[string]
	paginate.Store
	dst any
}

func (w wrapper) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	return forward.SaveKeys(ctx, w.dst, stream, items, keys)
}

func (w wrapper) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	return forward.LoadKeys(ctx, w.dst, stream, upTo)
}

func (w wrapper) Identity() paginate.Identity { return forward.Identity(w.dst) }

func (w wrapper) RestartsStreams() bool { return forward.RestartsStreams(w.dst) }

func (w wrapper) Unlock(ctx context.Context, stream string) error {
	return forward.Unlock(ctx, w.dst, stream)
}

// TestSink: a wrapped destination has the Key and the Table of the
// destination when it has them, and only then; the keys of a sync in
// progress, the identity, the stream locks and whether it restarts
// streams are forwarded.
func TestSink(t *testing.T) {
	always := []string{"Identifier", "KeyStore", "RestartingStore", "Unlocker"}
	mem := func() *paginate.MemorySink[string] { return new(paginate.MemorySink[string]) }
	for _, tc := range []struct {
		name string
		dst  interface {
			paginate.Sink[string]
			paginate.Committer[string]
			paginate.Store
		}
		want []string
	}{
		{"plain", dest{mem()}, always},
		{"restarting", restartingDest{dest{mem()}}, always},
		{"keyed", keyedDest{dest{mem()}}, []string{"Identifier", "Keyer", "KeyStore", "RestartingStore", "Unlocker"}},
		{"with a table", tableDest{dest{mem()}}, []string{"Identifier", "KeyStore", "RestartingStore", "Tabler", "Unlocker"}},
		{"keyed with a table", keyedTableDest{dest{mem()}}, []string{"Identifier", "Keyer", "KeyStore", "RestartingStore", "Tabler", "Unlocker"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := forward.Sink[string](wrapper{tc.dst, tc.dst, tc.dst, tc.dst}, tc.dst)
			if diff := cmp.Diff(tc.want, capabilities(w)); diff != "" {
				t.Errorf("capabilities (-want +got):\n%s", diff)
			}
			if k, ok := tc.dst.(paginate.Keyer[string]); ok && w.(paginate.Keyer[string]).Key("x") != k.Key("x") {
				t.Errorf("Key = %q, want %q", w.(paginate.Keyer[string]).Key("x"), k.Key("x"))
			}
			if got, want := w.RestartsStreams(), forward.RestartsStreams(tc.dst); got != want {
				t.Errorf("RestartsStreams = %v, want the destination's %v", got, want)
			}
			if w.Identity()["table"] != "t" {
				t.Errorf("Identity = %v, want the destination's", w.Identity())
			}
			ctx := context.Background()
			if err := w.SaveKeys(ctx, "s", 2, []uint64{4, 5}); err != nil {
				t.Fatal(err)
			}
			if err := w.Save(ctx, paginate.Checkpoint{Stream: "s", Position: paginate.Position{Page: 2}, Items: 2}); err != nil {
				t.Fatal(err)
			}
			keys, err := tc.dst.(paginate.KeyStore).LoadKeys(ctx, "s", 2)
			if err != nil || len(keys) != 2 {
				t.Errorf("the destination holds keys %v (%v), want the 2 saved through the wrapper", keys, err)
			}
		})
	}
}

// TestKeysOfAStoreWithout: a store that keeps no keys is given none, and
// gives none back.
func TestKeysOfAStoreWithout(t *testing.T) {
	ctx := context.Background()
	var st struct{ paginate.Store }
	if err := forward.SaveKeys(ctx, st, "s", 1, []uint64{1}); err != nil {
		t.Errorf("SaveKeys: %v", err)
	}
	if keys, err := forward.LoadKeys(ctx, st, "s", 1); keys != nil || err != nil {
		t.Errorf("LoadKeys = %v, %v; want none", keys, err)
	}
	if forward.RestartsStreams(st) {
		t.Error("RestartsStreams of a store that does not say = true")
	}
	if id := forward.Identity(st); id != nil {
		t.Errorf("Identity = %v, want none", id)
	}
	if err := forward.Unlock(ctx, st, "s"); err != nil {
		t.Errorf("Unlock: %v", err)
	}
}
