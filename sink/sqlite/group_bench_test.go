package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// BenchmarkRunGroupCommit syncs 100,000 users in pages of 50 from memory
// into the sink with paginate.Run, one page a commit against the default
// group commit, keys random as UUIDs are. One op is the whole sync into a
// new database.
func BenchmarkRunGroupCommit(b *testing.B) {
	const records, perPage = 100_000, 50
	users := usertest.Generate(records, 1)
	usertest.RandomIDs(users, 1)
	p := paginate.PaginatorFunc[usertest.User](func(_ context.Context, pos paginate.Position) (paginate.Page[usertest.User], error) {
		end := min(int(pos.Offset)+perPage, records)
		return paginate.Page[usertest.User]{Items: users[pos.Offset:end], More: end < records, Next: paginate.Position{Offset: int64(end)}}, nil
	})
	for _, bc := range []struct {
		name  string
		group paginate.Group
	}{{"page-a-commit", paginate.Group{Pages: 1}}, {"grouped", paginate.Group{}}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			for i := range b.N {
				b.StopTimer()
				db, err := sqlite.Open(filepath.Join(b.TempDir(), "run.db"))
				if err != nil {
					b.Fatal(err)
				}
				s, err := sqlite.New(ctx, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := paginate.Run(ctx, p, s, paginate.Options[usertest.User]{Stream: "users", Group: bc.group})
				if err != nil || res.Items != records {
					b.Fatalf("run %d: %d items, %v", i, res.Items, err)
				}
				b.StopTimer()
				s.Close()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
