package connector_test

import (
	"testing"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/connector/connectortest"
	"github.com/pagekit/pagekit/mockapi"
)

// TestCrashAtEveryCommit runs a connector of a stream and its child
// stream, simulates a kill -9 after each commit of a full sync in turn (the
// commit lands, nothing after it does), and resumes: every table must end
// equal to the mock's data, whatever the commit the crash followed.
func TestCrashAtEveryCommit(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 30, Seed: 11, Events: -1}, nil)
	connectortest.EveryCommit(t, func(t *testing.T, crash *connectortest.Crash) connectortest.Run {
		e.fresh()
		return connectortest.Run{
			Connector: func(t *testing.T) *connector.Connector {
				lim := connector.NewLimiter(connector.Limits{InFlight: 4})
				users, orders, _ := e.streams(streamOpts{limiter: lim, perPage: 7, crash: crash})
				c, err := connector.New(connector.Config{Limiter: lim, Runs: 4}, users, orders)
				if err != nil {
					t.Fatal(err)
				}
				return c
			},
			Check: func(t *testing.T) { e.checkTables(t) },
		}
	})
}
