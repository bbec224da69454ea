package main

import (
	"strings"
	"testing"

	"github.com/pagekit/pagekit/protocol/protocoltest"
)

// TestAirbyteStateOfOtherSettings: an operator changes the page size of
// a connection that has synced to its end, as its form lets them. The
// states Airbyte passes back hold no position, only the marks the
// destination already covers, and the platform has no -restart to give:
// the next read goes on incrementally from those marks, and never fails
// every later sync with a configuration error that speaks Go
// ("set Options.Restart") to someone who cannot act on it.
func TestAirbyteStateOfOtherSettings(t *testing.T) {
	api := serve(t)
	c := config(api)
	cfg := jsonFile(t, "config.json", c)
	o, _ := airbyteCmd(t, "discover", "--config", cfg)
	catalog := o.Raw["CATALOG"][0]
	schemas := streamSchemas(t, catalog)
	incremental := jsonFile(t, "incremental.json", configuredCatalog(t, catalog, "incremental"))
	first := airbyteRead(t, cfg, incremental, nil, schemas)

	c["page_size"] = 25
	api.Update(5)
	args := []string{"read", "--config", jsonFile(t, "config25.json", c), "--catalog", incremental,
		"--state", writeFile(t, "state.json", protocoltest.AirbyteStateFile(first.LastStates()))}
	o, r := airbyteCmd(t, args...)
	for _, e := range o.Errors {
		if strings.Contains(e, "Options.") {
			t.Errorf("an error gives the platform's operator advice in Go: %s", e)
		}
	}
	if r.code != 0 {
		t.Fatalf("a read after the page size changed, from the states of a sync that completed: exit %d, errors %q", r.code, o.Errors)
	}
	checkIncremental(t, o, first.LastStates(), versions(first), api)
}
