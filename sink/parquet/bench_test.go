package parquet_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/parquet"
)

// BenchmarkCommit commits pages of 500 USER records, one file and one
// manifest each; an op is a page.
func BenchmarkCommit(b *testing.B) {
	ctx := context.Background()
	users := usertest.Generate(500*100, 1)
	s, err := parquet.New(ctx, parquet.Dir(filepath.Join(b.TempDir(), "user")), usertest.Mapping("user"), parquet.Config[usertest.User]{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := i % 100
		if err := s.Commit(ctx, users[p*500:(p+1)*500], paginate.Checkpoint{Stream: "user", Position: paginate.Position{Page: int64(i + 2)}}); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(500*b.N)/b.Elapsed().Seconds(), "rows/s")
}
