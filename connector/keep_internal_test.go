package connector

import (
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/paginate"
)

type keepParent struct {
	ID      string    `json:"id"`
	Region  string    `json:"region"`
	Email   string    `json:"email"`
	Tags    []string  `json:"tags"`
	Updated time.Time `json:"updated"`
}

// TestKeep: a partition carries what ChildOf.Keep keeps of its parent,
// without the zero members, which decode to the same record; a Keep that
// drops what Key reads is refused; without Keep the whole record goes.
func TestKeep(t *testing.T) {
	parent := keepParent{ID: "u1", Region: "eu", Email: "ann@example.com", Tags: []string{"a"}, Updated: time.Unix(1, 0).UTC()}
	newChild := func(keep func(keepParent) keepParent) *child[keepParent, int] {
		top := NewStream("users", paginate.PaginatorFunc[keepParent](nil), new(paginate.MemorySink[keepParent]), paginate.Options[keepParent]{})
		s := NewChild("orders", ChildOf[keepParent, int]{Parent: top, Key: func(p keepParent) string { return p.ID },
			Paginator: func(keepParent) (paginate.Paginator[int], error) { return nil, nil }, Keep: keep},
			new(paginate.MemorySink[int]), paginate.Options[int]{Store: new(paginate.MemoryStore)})
		return s.impl.(*child[keepParent, int])
	}
	for _, tc := range []struct {
		name string
		keep func(keepParent) keepParent
		want string
		err  string
	}{
		{"id and region", func(p keepParent) keepParent { return keepParent{ID: p.ID, Region: p.Region} }, `{"id":"u1","region":"eu"}`, ""},
		{"id only", func(p keepParent) keepParent { return keepParent{ID: p.ID} }, `{"id":"u1"}`, ""},
		{"drops the key", func(p keepParent) keepParent { return keepParent{Region: p.Region} }, "", `ChildOf.Keep drops what Key reads: the kept parent's key is "", not "u1"`},
		{"no Keep", nil, `{"id":"u1","region":"eu","email":"ann@example.com","tags":["a"],"updated":"1970-01-01T00:00:01Z"}`, ""},
	} {
		raw, err := newChild(tc.keep).kept(parent, "u1")
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		case tc.err == "" && (err != nil || string(raw) != tc.want):
			t.Errorf("%s: %s, %v; want %s", tc.name, raw, err, tc.want)
		}
	}
}
