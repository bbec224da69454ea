package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/memory"
	"github.com/pagekit/pagekit/sink/schema"
)

type item struct {
	Org  string    `pagekit:"org,pk"`
	ID   int64     `pagekit:"id,pk"`
	Name string    `pagekit:"name"`
	Op   schema.Op `pagekit:"-"`
}

func TestSink(t *testing.T) {
	m := schema.Must(schema.Derive[item]("items"))
	for _, tc := range []struct {
		name    string
		deleted string
		pages   [][]item
		rows    []item
		gone    []item
	}{
		{"sorted by key", "", [][]item{{{Org: "b", ID: 1}, {Org: "a", ID: 10}, {Org: "a", ID: 9}}},
			[]item{{Org: "a", ID: 9}, {Org: "a", ID: 10}, {Org: "b", ID: 1}}, nil},
		{"upsert replaces", "", [][]item{{{Org: "a", ID: 1, Name: "x"}}, {{Org: "a", ID: 1, Name: "y"}, {Org: "a", ID: 1, Name: "z"}}},
			[]item{{Org: "a", ID: 1, Name: "z"}}, nil},
		{"replay is idempotent", "", [][]item{{{Org: "a", ID: 1}, {Org: "a", ID: 2}}, {{Org: "a", ID: 1}, {Org: "a", ID: 2}}},
			[]item{{Org: "a", ID: 1}, {Org: "a", ID: 2}}, nil},
		{"delete", "", [][]item{{{Org: "a", ID: 1}, {Org: "a", ID: 2}}, {{Org: "a", ID: 1, Op: schema.Delete}, {Org: "z", ID: 1, Op: schema.Delete}}},
			[]item{{Org: "a", ID: 2}}, nil},
		{"soft delete and revive", "_deleted", [][]item{
			{{Org: "a", ID: 1}, {Org: "a", ID: 2}, {Org: "a", ID: 3}},
			{{Org: "a", ID: 1, Op: schema.SoftDelete}, {Org: "a", ID: 2, Op: schema.SoftDelete}, {Org: "a", ID: 2, Name: "back"}},
		}, []item{{Org: "a", ID: 2, Name: "back"}, {Org: "a", ID: 3}}, []item{{Org: "a", ID: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := memory.New(m, memory.Config[item]{Op: func(i item) schema.Op { return i.Op }, DeletedColumn: tc.deleted})
			for _, p := range tc.pages {
				if err := s.Write(context.Background(), p); err != nil {
					t.Fatal(err)
				}
			}
			ignoreOp := cmp.Transformer("noop", func(i item) item { i.Op = 0; return i })
			if diff := cmp.Diff(tc.rows, s.Rows(), ignoreOp); diff != "" {
				t.Errorf("Rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.gone, s.Deleted(), ignoreOp, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Deleted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAtomicPage(t *testing.T) {
	ctx := context.Background()
	s := memory.New(usertest.Mapping("user"), memory.Config[usertest.User]{})
	first := usertest.Generate(5, 1)
	before := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	if err := s.Commit(ctx, first, before); err != nil {
		t.Fatal(err)
	}
	page := usertest.Generate(100, 2)
	page[50].UpdatedAt = page[50].UpdatedAt.AddDate(9000, 0, 0)
	err := s.Commit(ctx, page, paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}})
	var re *schema.RecordError
	if !errors.As(err, &re) || re.Index != 50 || re.Column != "updatedAt" || !errors.Is(err, schema.ErrBadValue) {
		t.Fatalf("Commit: error = %v, want record 50's updatedAt", err)
	}
	if diff := cmp.Diff(first, s.Rows()); diff != "" {
		t.Errorf("rows after a failed page (-want +got):\n%s", diff)
	}
	cp, _, _ := s.Load(ctx, "users")
	if diff := cmp.Diff(before, cp); diff != "" {
		t.Errorf("checkpoint (-want +got):\n%s", diff)
	}
}

func TestRunResumes(t *testing.T) {
	ctx := context.Background()
	users := usertest.Generate(42, 3)
	s := memory.New(usertest.Mapping("user"), memory.Config[usertest.User]{})
	var fetched []int64
	failAt := int64(3)
	api := paginate.PaginatorFunc[usertest.User](func(ctx context.Context, pos paginate.Position) (paginate.Page[usertest.User], error) {
		p := max(pos.Page, 1)
		fetched = append(fetched, p)
		if p == failAt {
			return paginate.Page[usertest.User]{}, paginate.Permanent(fmt.Errorf("page %d is down", p))
		}
		lo, hi := int(p-1)*10, min(int(p)*10, len(users))
		return paginate.Page[usertest.User]{Items: users[lo:hi], More: hi < len(users), Next: paginate.Position{Page: p + 1}}, nil
	})
	opts := paginate.Options[usertest.User]{Stream: "users"}
	if _, err := paginate.Run(ctx, api, s, opts); err == nil {
		t.Fatal("first run succeeded, want the failure at page 3")
	}
	if got := len(s.Rows()); got != 20 {
		t.Errorf("%d rows after the failed run, want 20", got)
	}
	failAt = 0
	fetched = nil
	if _, err := paginate.Run(ctx, api, s, opts); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{3, 4, 5}, fetched); diff != "" {
		t.Errorf("second run fetched (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(users, s.Rows()); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
