package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/protocol/fivetran/fivetranpb"
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

// TestStateMidSyncOfOtherSettings: a sync interrupted mid-way, then the
// operator changes the page size, as each platform's form lets them. The
// states hold positions of the old paging, which mean other records under
// the new one: each platform's adapter starts those streams over from
// their last completed marks, says so in a warning in the platform's log,
// and the sync completes with nothing lost, on Airbyte, Singer and
// Fivetran alike.
func TestStateMidSyncOfOtherSettings(t *testing.T) {
	t.Run("airbyte", func(t *testing.T) {
		api := serve(t)
		c := smallPages(api)
		o, _ := airbyteCmd(t, "discover", "--config", jsonFile(t, "config.json", c))
		catalog := o.Raw["CATALOG"][0]
		cat := jsonFile(t, "incremental.json", configuredCatalog(t, catalog, "incremental"))
		args := func(c map[string]any, states map[string]json.RawMessage) []string {
			a := []string{"airbyte", "read", "--config", jsonFile(t, "config.json", c), "--catalog", cat}
			if states != nil {
				a = append(a, "--state", writeFile(t, "state.json", protocoltest.AirbyteStateFile(states)))
			}
			return a
		}
		otherSettings(t, api, c, platform{
			sync: func(c map[string]any, states map[string]json.RawMessage) (*protocoltest.Output, string, error) {
				o, r := airbyteCmd(t, args(c, states)[1:]...)
				var logs []string
				for _, m := range o.Raw["LOG"] {
					logs = append(logs, string(m))
				}
				if r.code != 0 {
					return o, strings.Join(logs, "\n"), fmt.Errorf("exit %d: %q", r.code, o.Errors)
				}
				for _, s := range []string{"users", "orders", "events"} {
					if !slices.Contains(o.Statuses, s+" COMPLETE") {
						return o, "", fmt.Errorf("stream %s statuses %v", s, o.Statuses)
					}
				}
				return o, strings.Join(logs, "\n") + strings.Join(o.Errors, "\n"), nil
			},
			interrupted: func(c map[string]any, states map[string]json.RawMessage, after int) *protocoltest.Output {
				r, _ := runKilled(t, api, after, args(c, states)...)
				o, err := protocoltest.ParseAirbyte(r.stdout)
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
		})
	})
	t.Run("singer", func(t *testing.T) {
		api := serve(t)
		args := func(c map[string]any, states map[string]json.RawMessage) []string {
			a := []string{"singer", "--config", jsonFile(t, "config.json", c)}
			if states != nil {
				a = append(a, "--state", writeFile(t, "state.json", protocoltest.SingerStateFile(states)))
			}
			return a
		}
		otherSettings(t, api, smallPages(api), platform{
			sync: func(c map[string]any, states map[string]json.RawMessage) (*protocoltest.Output, string, error) {
				r := runCmd(t, args(c, states)...)
				o, err := protocoltest.ParseSinger(r.stdout)
				if err != nil {
					t.Fatal(err)
				}
				if r.code != 0 {
					return o, string(r.stderr), fmt.Errorf("exit %d", r.code)
				}
				return o, string(r.stderr), nil
			},
			interrupted: func(c map[string]any, states map[string]json.RawMessage, after int) *protocoltest.Output {
				r, _ := runKilled(t, api, after, args(c, states)...)
				o, err := protocoltest.ParseSinger(r.stdout)
				if err != nil {
					t.Fatal(err)
				}
				return o
			},
		})
	})
	t.Run("fivetran", func(t *testing.T) {
		api := serve(t)
		client, logs := inProcess(t)
		conf := func(c map[string]any) map[string]string {
			m := fivetranConfig(api)
			m["page_size"], m["concurrency"] = fmt.Sprint(c["page_size"]), fmt.Sprint(c["concurrency"])
			return m
		}
		req := func(c map[string]any, states map[string]json.RawMessage) *fivetranpb.UpdateRequest {
			r := &fivetranpb.UpdateRequest{Configuration: conf(c)}
			if states != nil {
				r.StateJson = stateJSON(states)
			}
			return r
		}
		otherSettings(t, api, smallPages(api), platform{
			sync: func(c map[string]any, states map[string]json.RawMessage) (*protocoltest.Output, string, error) {
				from := len(logs.Bytes())
				o, err := update(t, client, req(c, states), nil)
				return o, string(logs.Bytes()[from:]), err
			},
			interrupted: func(c map[string]any, states map[string]json.RawMessage, after int) *protocoltest.Output {
				o, _ := update(t, client, req(c, states), func(n int) bool { return n >= after })
				return o
			},
		})
	})
}

// smallPages is the configuration of these tests against api: pages of 4,
// fetched one at a time, so that a sync is interrupted between pages.
func smallPages(api *exampletest.API) map[string]any {
	c := config(api)
	c["page_size"], c["concurrency"] = 4, 1
	return c
}

// platform runs syncs of one platform: to their end, and interrupted once
// the API has answered after requests (Airbyte, Singer) or the connector
// has sent after responses (Fivetran). A sync returns the platform's log
// lines and errors as text.
type platform struct {
	sync        func(c map[string]any, states map[string]json.RawMessage) (*protocoltest.Output, string, error)
	interrupted func(c map[string]any, states map[string]json.RawMessage, after int) *protocoltest.Output
}

// otherSettings syncs everything, interrupts an incremental sync after
// the source changed until its states hold a position mid-sync, halves
// the page size, changes the source again, and syncs from those states.
func otherSettings(t *testing.T, api *exampletest.API, c map[string]any, p platform) {
	full, _, err := p.sync(c, nil)
	if err != nil {
		t.Fatalf("the first sync: %v", err)
	}
	api.Update(10)
	var cut *protocoltest.Output
	var mid []string
	for _, after := range []int{2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20, 24, 28, 33, 40, 50} {
		cut = p.interrupted(c, full.LastStates(), after)
		if mid = midSync(t, cut.LastStates()); len(mid) > 0 {
			break
		}
	}
	if len(mid) == 0 {
		t.Fatal("no interrupted sync left a state mid-sync")
	}
	states := maps.Clone(full.LastStates())
	maps.Copy(states, cut.LastStates())

	was := c["page_size"].(int)
	c = maps.Clone(c)
	c["page_size"] = was / 2
	api.Update(5)
	api.Insert(3)
	o, logs, err := p.sync(c, states)
	if err != nil {
		t.Fatalf("a sync after the page size changed, from states mid-sync (%v): %v\n%s", mid, err, logs)
	}
	if strings.Contains(logs, "Options.") {
		t.Errorf("the platform's log gives its operator advice in Go:\n%s", logs)
	}
	// The change as slog writes it, quotes unescaped: the platforms
	// escape a log line's quotes once or twice.
	change := fmt.Sprintf(`size %q, now %q`, fmt.Sprint(was), fmt.Sprint(was/2))
	if !strings.Contains(logs, "restart") || !strings.Contains(strings.ReplaceAll(logs, `\`, ""), change) {
		t.Errorf("no warning says that the streams %v started over and why:\n%s", mid, logs)
	}
	got := versions(full)
	for _, out := range []*protocoltest.Output{cut, o} {
		for s, vs := range versions(out) {
			if got[s] == nil {
				got[s] = map[string]int{}
			}
			for v, n := range vs {
				got[s][v] += n
			}
		}
	}
	for s, vs := range truth(api) {
		for v := range vs {
			if got[s][v] == 0 {
				t.Errorf("stream %s: version %s is missing from every sync", s, v)
			}
		}
	}
}

// midSync returns the streams whose states hold a position mid-sync: a
// page, an offset or a token, their own or a partition's.
func midSync(t *testing.T, states map[string]json.RawMessage) []string {
	t.Helper()
	type cp struct {
		Position paginate.Position `json:"position"`
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(states)) {
		var st struct {
			Checkpoint *cp           `json:"checkpoint"`
			Partitions map[string]cp `json:"partitions"`
		}
		if err := json.Unmarshal(states[name], &st); err != nil {
			t.Fatalf("the state of %s: %v", name, err)
		}
		mid := st.Checkpoint != nil && !st.Checkpoint.Position.IsStart()
		if st.Checkpoint == nil {
			st.Checkpoint = new(cp)
		}
		if tok, ok := strings.CutPrefix(st.Checkpoint.Position.Token, "pagekit.connector.child/v1 "); ok {
			// A child stream's own place: in its parent's list.
			var child struct {
				List cp `json:"list"`
			}
			if err := json.Unmarshal([]byte(tok), &child); err != nil {
				t.Fatalf("the state of %s: %v", name, err)
			}
			mid = !child.List.Position.IsStart()
		}
		for _, p := range st.Partitions {
			mid = mid || !p.Position.IsStart()
		}
		if mid {
			out = append(out, name)
		}
	}
	return out
}
