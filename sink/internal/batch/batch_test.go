package batch_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/sink/internal/batch"
	"github.com/pagekit/pagekit/sink/schema"
)

type rec struct {
	ID string    `pagekit:"id,pk"`
	V  int       `pagekit:"v"`
	Op schema.Op `pagekit:"-"`
}

func TestBuild(t *testing.T) {
	m := schema.Must(schema.Derive[rec]("t"))
	type run struct {
		Op   schema.Op
		Rows []int
	}
	for _, tc := range []struct {
		name   string
		dedupe bool
		items  []rec
		want   []run
	}{
		{"empty", false, nil, nil},
		{"upserts", false, []rec{{ID: "a"}, {ID: "b"}, {ID: "a"}}, []run{{schema.Upsert, []int{0, 1, 2}}}},
		{"dedupe keeps last", true, []rec{{ID: "a"}, {ID: "b"}, {ID: "a"}, {ID: "c"}}, []run{{schema.Upsert, []int{1, 2, 3}}}},
		{"runs", true, []rec{
			{ID: "a"}, {ID: "a"}, {ID: "a", Op: schema.Delete}, {ID: "b", Op: schema.Delete},
			{ID: "a"}, {ID: "c", Op: schema.SoftDelete},
		}, []run{
			{schema.Upsert, []int{1}}, {schema.Delete, []int{2, 3}}, {schema.Upsert, []int{4}}, {schema.SoftDelete, []int{5}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &batch.Builder[rec]{Mapping: m, Op: func(r rec) schema.Op { return r.Op }, SoftDelete: true, Dedupe: tc.dedupe}
			vals, runs, err := b.Build(tc.items)
			if err != nil {
				t.Fatal(err)
			}
			if len(vals) != len(tc.items)*b.Columns() {
				t.Errorf("%d values, want %d", len(vals), len(tc.items)*b.Columns())
			}
			var got []run
			for _, r := range runs {
				got = append(got, run{r.Op, r.Rows})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildBadOp(t *testing.T) {
	m := schema.Must(schema.Derive[rec]("t"))
	for _, tc := range []struct {
		op   schema.Op
		want string
	}{
		{schema.SoftDelete, `table "t": record 1 (id="b"): bad operation: soft delete, but the sink has no deleted column (set its Config.DeletedColumn)`},
		{schema.Op(9), `table "t": record 1 (id="b"): bad operation: unknown operation Op(9)`},
	} {
		b := &batch.Builder[rec]{Mapping: m, Op: func(r rec) schema.Op { return r.Op }}
		_, _, err := b.Build([]rec{{ID: "a"}, {ID: "b", Op: tc.op}})
		if !errors.Is(err, schema.ErrBadOp) || err.Error() != tc.want {
			t.Errorf("op %v: error = %v, want %s", tc.op, err, tc.want)
		}
	}
}

func TestKey(t *testing.T) {
	cols := []schema.Column{{Name: "a", Type: schema.Long}, {Name: "b", Type: schema.String}}
	k1, _ := batch.Key([]schema.Value{{Int: 1}, {Str: "x"}}, []int{0, 1}, cols, nil)
	k2, _ := batch.Key([]schema.Value{{Int: 1}, {Str: "y"}}, []int{0, 1}, cols, nil)
	k3, _ := batch.Key([]schema.Value{{Int: 1}, {Str: "x"}}, []int{0, 1}, cols, nil)
	if k1 == k2 || k1 != k3 {
		t.Errorf("keys: %q %q %q", k1, k2, k3)
	}
}
