package postgres_test

import (
	"testing"

	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/postgres"
)

func TestKeyStore(t *testing.T) {
	pool, schema := testDB(t)
	var last *postgres.Sink[usertest.User]
	usertest.CheckKeyStore(t, func() usertest.KeySink {
		if last != nil {
			last.Close() // as a process that ended would
		}
		last = newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: schema})
		return last
	})
}

func TestKey(t *testing.T) {
	pool, schema := testDB(t)
	s := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: schema})
	u := usertest.Generate(1, 1)[0]
	if got := s.Key(u); got != u.ID {
		t.Errorf("Key = %q, want the id %q", got, u.ID)
	}
}
