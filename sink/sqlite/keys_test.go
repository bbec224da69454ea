package sqlite_test

import (
	"testing"

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
