package duckdb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/internal/usertest"
)

// BenchmarkCommit commits pages of USER records with random keys, with
// their checkpoint, into a new table; an op is a page.
func BenchmarkCommit(b *testing.B) {
	for _, size := range []int{50, 500, 3000} {
		b.Run(fmt.Sprintf("rows=%d", size), func(b *testing.B) {
			ctx := context.Background()
			users := usertest.Generate(size*200, 1)
			usertest.RandomIDs(users, 2)
			db, err := duckdb.Open(filepath.Join(b.TempDir(), "bench.duckdb"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			s, err := duckdb.New(ctx, db, usertest.Mapping("user"), duckdb.Config[usertest.User]{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			i := 0
			for b.Loop() {
				p := i % 200
				if err := s.Commit(ctx, users[p*size:(p+1)*size], paginate.Checkpoint{Stream: "user", Position: paginate.Position{Page: int64(i + 2)}}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
