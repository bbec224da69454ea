package memory_test

import (
	"testing"

	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/memory"
)

func TestKeyStore(t *testing.T) {
	s := memory.New(usertest.Mapping("user"), memory.Config[usertest.User]{})
	usertest.CheckKeyStore(t, func() usertest.KeySink { return s })
}
