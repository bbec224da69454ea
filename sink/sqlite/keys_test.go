package sqlite_test

import (
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/sqlite"
)

func TestKeyStore(t *testing.T) {
	db := openDB(t)
	var last *sqlite.Sink[usertest.User]
	usertest.CheckKeyStore(t, func() usertest.KeySink {
		if last != nil {
			last.Close() // as a process that ended would
		}
		last = newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
		return last
	})
}

func TestKey(t *testing.T) {
	s := newSink(t, openDB(t), usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	u := usertest.Generate(1, 1)[0]
	if got := s.Key(u); got != u.ID {
		t.Errorf("Key = %q, want the id %q", got, u.ID)
	}
}

// BenchmarkLoadKeys is what a resume costs the SQLite sink: loading the
// keys of a sync stopped after 50,000 records in pages of 50.
func BenchmarkLoadKeys(b *testing.B) {
	ctx := b.Context()
	s := newSink(b, openDB(b), usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	const pages, size = 1000, 50
	keys := make([]uint64, size)
	for p := 1; p <= pages; p++ {
		for i := range keys {
			keys[i] = uint64(p*size + i)
		}
		if err := s.SaveKeys(ctx, "user", int64(p*size), keys); err != nil {
			b.Fatal(err)
		}
		if err := s.Save(ctx, paginate.Checkpoint{Stream: "user", Position: paginate.Position{Page: int64(p + 1)}, Items: int64(p * size)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		got, err := s.LoadKeys(ctx, "user", pages*size)
		if err != nil || len(got) != pages*size {
			b.Fatalf("LoadKeys: %d keys, %v", len(got), err)
		}
	}
}
