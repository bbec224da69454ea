package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
)

// parent is a parent record; "unkept" does not encode, so that its
// partition's failure cannot be kept for a retry.
type parent struct {
	ID string `json:"id"`
}

func (p parent) MarshalJSON() ([]byte, error) {
	if p.ID == "unkept" {
		return nil, errors.New("parent does not encode")
	}
	return json.Marshal(struct {
		ID string `json:"id"`
	}{p.ID})
}

// A partition of the first page of parents that fails, and cannot be kept
// for a retry, while the list waits for room behind it, ends the list
// with an error instead of leaving it waiting for ever.
func TestListStopsBehindAnUnkeptFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const perPage, pages = 100, 50 // more parents than the fan-out's window of 4096
		list := paginate.PaginatorFunc[parent](func(_ context.Context, pos paginate.Position) (paginate.Page[parent], error) {
			if pos.IsStart() {
				return paginate.Page[parent]{Items: []parent{{ID: "unkept"}}, More: true, Next: paginate.Position{Page: 1}}, nil
			}
			page := paginate.Page[parent]{More: pos.Page < pages, Next: paginate.Position{Page: pos.Page + 1}}
			for i := range perPage {
				page.Items = append(page.Items, parent{ID: fmt.Sprintf("p%d-%d", pos.Page, i)})
			}
			return page, nil
		})
		release := make(chan struct{})
		parents := connector.NewStream("parents", list, newTable[parent]("parents", "id"), paginate.Options[parent]{})
		children := connector.NewChild("children", connector.ChildOf[parent, parent]{
			Parent: parents,
			Key:    func(p parent) string { return p.ID },
			Paginator: func(p parent) (paginate.Paginator[parent], error) {
				if p.ID != "unkept" {
					return mockPaginatorOf[parent](), nil
				}
				return paginate.PaginatorFunc[parent](func(ctx context.Context, _ paginate.Position) (paginate.Page[parent], error) {
					select {
					case <-release:
						return paginate.Page[parent]{}, paginate.Permanent(errors.New("partition fails"))
					case <-ctx.Done():
						return paginate.Page[parent]{}, ctx.Err()
					}
				}), nil
			},
		}, newTable[parent]("children", "id"), paginate.Options[parent]{})
		c, err := connector.New(connector.Config{}, parents, children)
		if err != nil {
			t.Fatal(err)
		}
		type outcome struct {
			res connector.Result
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			res, err := c.Run(t.Context(), "children")
			done <- outcome{res, err}
		}()
		synctest.Wait() // the list waits for room behind the first page
		close(release)
		o := <-done
		if o.err == nil {
			t.Fatal("Run succeeded")
		}
		r := o.res.Streams[0]
		if r.Partitions.Failed != 1 || r.Stop != paginate.StopError {
			t.Errorf("partitions %+v, stop %v; want one failed and the list stopped by an error", r.Partitions, r.Stop)
		}
	})
}
