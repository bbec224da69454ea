package parquet_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/parquet"
)

func TestKeyStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "user")
	var last *parquet.Sink[usertest.User]
	usertest.CheckKeyStore(t, func() usertest.KeySink {
		if last != nil {
			last.Close() // as a process that ended would
		}
		s, err := parquet.New(context.Background(), parquet.Dir(dir), usertest.Mapping("user"), parquet.Config[usertest.User]{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		last = s
		return s
	})
}

func TestKey(t *testing.T) {
	s, err := parquet.New(context.Background(), parquet.Dir(t.TempDir()), usertest.Mapping("user"), parquet.Config[usertest.User]{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := usertest.Generate(1, 1)[0]
	if got := s.Key(u); got != u.ID {
		t.Errorf("Key = %q, want the id %q", got, u.ID)
	}
}

func paginateCheckpoint(stream string, page int64) paginate.Checkpoint {
	return paginate.Checkpoint{Stream: stream, Position: paginate.Position{Page: page}}
}
