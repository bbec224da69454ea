package duckdb_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/internal/usertest"
)

func TestKeyStore(t *testing.T) {
	db, err := duckdb.Open(filepath.Join(t.TempDir(), "keys.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var last *duckdb.Sink[usertest.User]
	usertest.CheckKeyStore(t, func() usertest.KeySink {
		if last != nil {
			last.Close() // as a process that ended would
		}
		s, err := duckdb.New(context.Background(), db, usertest.Mapping("user"), duckdb.Config[usertest.User]{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		last = s
		return s
	})
	u := usertest.Generate(1, 1)[0]
	if got := last.Key(u); got != u.ID {
		t.Errorf("Key = %q, want the id %q", got, u.ID)
	}
}
