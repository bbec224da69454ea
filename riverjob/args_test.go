package riverjob_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/strategies"
	"github.com/riverqueue/river"
)

// TestPartitionArgsCarryOnlyWhatIsKept syncs a child stream whose
// paginator reads its parent's id only, declared with ChildOf.Keep, as
// River jobs: every partition job's arguments hold the parent's id and
// nothing else of the synced user (no name, email, company, dates), as
// stored in river_job and as River gives them back; the tables are
// complete. Without Keep, a partition's job carries the whole record.
func TestPartitionArgsCarryOnlyWhatIsKept(t *testing.T) {
	for _, keep := range []bool{true, false} {
		name := "Keep"
		if !keep {
			name = "no Keep"
		}
		t.Run(name, func(t *testing.T) {
			a := newAPI(t)
			b := newSQLite(t)
			u, o := b.sinks(t)
			parents := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
				Request:   strategies.Request{URL: a.url + mockapi.PathPageNumber},
				Size:      10,
				SizeParam: strategies.Query("per_page"),
				Response:  strategies.Shape[mockapi.User]{ItemsPath: "data", TotalPagesPath: "total_pages"},
			}, u, paginate.Options[mockapi.User]{Retry: fastRetry})
			of := connector.ChildOf[mockapi.User, mockapi.Order]{
				Parent: parents,
				Key:    func(u mockapi.User) string { return u.ID },
				Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
					return &strategies.PageNumber[mockapi.Order]{
						Request:   strategies.Request{URL: a.url + mockapi.OrdersPath(url.PathEscape(u.ID))},
						Size:      5,
						SizeParam: strategies.Query("per_page"),
						Response:  strategies.Shape[mockapi.Order]{ItemsPath: "data", TotalPagesPath: "total_pages"},
					}, nil
				},
			}
			if keep {
				of.Keep = func(u mockapi.User) mockapi.User { return mockapi.User{ID: u.ID} }
			}
			orders := connector.NewChild("orders", of, o, paginate.Options[mockapi.Order]{Retry: fastRetry})
			c, err := connector.New(connector.Config{}, parents, orders)
			if err != nil {
				t.Fatal(err)
			}
			s := runJobs(t, b, c, &river.Config{})
			s.api = a
			finished := s.wait(t, time.Minute)
			s.checkTables(t)

			stored := s.rows(t, `SELECT CAST(args AS TEXT) FROM river_job WHERE kind = '`+riverjob.KindPartition+`'`)
			children := 0
			for i, j := range finished {
				if j.Kind != riverjob.KindPartition {
					continue
				}
				var args riverjob.PartitionArgs
				if err := json.Unmarshal(j.EncodedArgs, &args); err != nil {
					t.Fatal(err)
				}
				if args.Key == "" {
					continue // the users stream
				}
				children++
				var parent map[string]any
				if err := json.Unmarshal(args.Parent, &parent); err != nil {
					t.Fatal(err)
				}
				user, _ := a.Get(args.Key)
				switch {
				case keep && (len(parent) != 1 || parent["id"] != args.Key):
					t.Errorf("job %d carries %s of its parent, want its id only", j.ID, args.Parent)
				case !keep && parent["email"] != user.Email:
					t.Errorf("job %d carries %s of its parent, want the whole record", j.ID, args.Parent)
				}
				if keep {
					for _, data := range []string{user.Email, user.Name, user.Company} {
						if strings.Contains(strings.Join(stored, "\n"), data) {
							t.Errorf("river_job holds %q of user %s (job %d)", data, args.Key, finished[i].ID)
						}
					}
				}
			}
			if want := users; children != want {
				t.Errorf("%d partition jobs of orders, want one a user (%d)", children, want)
			}
		})
	}
}
