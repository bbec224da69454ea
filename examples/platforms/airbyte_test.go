package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/protocol/protocoltest"
)

// airbyteCmd runs an Airbyte command and parses its output, failing the test
// on a message that does not validate.
func airbyteCmd(t *testing.T, args ...string) (*protocoltest.Output, result) {
	t.Helper()
	r := runCmd(t, append([]string{"airbyte"}, args...)...)
	o, err := protocoltest.ParseAirbyte(r.stdout)
	if err != nil {
		t.Fatalf("airbyte %s: %v\nstderr: %s", args[0], err, r.stderr)
	}
	if len(r.stderr) > 0 {
		t.Errorf("airbyte %s wrote to stderr, which the platform does not read: %s", args[0], r.stderr)
	}
	return o, r
}

// configuredCatalog returns the configured catalog of the discovered
// streams, each in mode.
func configuredCatalog(t *testing.T, catalog json.RawMessage, mode string, skip ...string) map[string]any {
	t.Helper()
	var msg struct {
		Catalog struct {
			Streams []map[string]any `json:"streams"`
		} `json:"catalog"`
	}
	if err := json.Unmarshal(catalog, &msg); err != nil {
		t.Fatal(err)
	}
	var cs []any
	for _, s := range msg.Catalog.Streams {
		if slices.Contains(skip, s["name"].(string)) {
			continue
		}
		cs = append(cs, map[string]any{"stream": s, "sync_mode": mode, "destination_sync_mode": "append_dedup",
			"cursor_field": s["default_cursor_field"], "primary_key": s["source_defined_primary_key"]})
	}
	cat := map[string]any{"streams": cs}
	b, _ := json.Marshal(cat)
	if err := protocoltest.ValidateConfiguredCatalog(b); err != nil {
		t.Fatalf("the test's configured catalog: %v", err)
	}
	return cat
}

// airbyteRead runs a read from states (nil: none) and checks what every
// read must hold: its messages validate, its records validate against
// their streams' schemas, each state follows the records it covers, and
// each stream ends COMPLETE. A stream the catalog configures full_refresh
// starts from no state, whatever it is given.
func airbyteRead(t *testing.T, cfg, cat string, states map[string]json.RawMessage, schemas map[string]*jsonSchema) *protocoltest.Output {
	t.Helper()
	args := []string{"read", "--config", cfg, "--catalog", cat}
	if states != nil {
		args = append(args, "--state", writeFile(t, "state.json", protocoltest.AirbyteStateFile(states)))
	}
	o, r := airbyteCmd(t, args...)
	if r.code != 0 {
		t.Fatalf("read: exit %d: %v", r.code, o.Errors)
	}
	checkAirbyteRead(t, o, incrementalStates(t, cat, states), schemas)
	for _, s := range []string{"users", "orders", "events"} {
		if !slices.Contains(o.Statuses, s+" COMPLETE") || !slices.Contains(o.Statuses, s+" STARTED") {
			t.Errorf("read: stream %s statuses %v", s, o.Statuses)
		}
	}
	return o
}

// incrementalStates returns the states of the streams that the configured
// catalog in the file cat reads incrementally: those a read resumes from.
func incrementalStates(t *testing.T, cat string, states map[string]json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(cat)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Streams []struct {
			Stream struct {
				Name string `json:"name"`
			} `json:"stream"`
			SyncMode string `json:"sync_mode"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("the configured catalog %s: %v", cat, err)
	}
	out := make(map[string]json.RawMessage)
	for _, s := range c.Streams {
		if st, ok := states[s.Stream.Name]; ok && s.SyncMode == "incremental" {
			out[s.Stream.Name] = st
		}
	}
	return out
}

// checkAirbyteRead checks the records and states of a read, complete or
// killed.
func checkAirbyteRead(t *testing.T, o *protocoltest.Output, states map[string]json.RawMessage, schemas map[string]*jsonSchema) {
	t.Helper()
	if err := protocoltest.CheckStates(o, states, streamSpecs); err != nil {
		t.Errorf("read: states: %v", err)
	}
	for _, r := range o.Records {
		if err := schemas[r.Stream].validate(r.Data); err != nil {
			t.Fatalf("line %d: a %s record does not validate against the stream's json_schema: %v", r.Line, r.Stream, err)
		}
	}
}

// TestAirbyte runs the example as an Airbyte source against the mock API,
// as the platform and its acceptance tests do: spec, check and discover
// with good and bad configurations, two full reads, an incremental read
// after the source changed, a read from a state from the future, and
// reads killed with SIGKILL then resumed from the last states they
// wrote.
func TestAirbyte(t *testing.T) {
	api := serve(t)
	cfg := jsonFile(t, "config.json", config(api))

	// spec: the configuration's JSON Schema, which must compile.
	o, r := airbyteCmd(t, "spec")
	if r.code != 0 || len(o.Raw["SPEC"]) != 1 {
		t.Fatalf("spec: exit %d, %d SPEC messages", r.code, len(o.Raw["SPEC"]))
	}
	var spec struct {
		Spec struct {
			ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
		} `json:"spec"`
	}
	json.Unmarshal(o.Raw["SPEC"][0], &spec)
	if _, err := protocoltest.ValidateSchema(spec.Spec.ConnectionSpecification); err != nil {
		t.Errorf("spec: connectionSpecification: %v", err)
	}
	if !strings.Contains(string(spec.Spec.ConnectionSpecification), `"airbyte_secret":true`) {
		t.Errorf("spec: the token is not marked airbyte_secret: %s", spec.Spec.ConnectionSpecification)
	}

	t.Run("check", func(t *testing.T) {
		cases := []struct {
			name, config, want string
		}{
			{"good", `{"url": "` + api.URL + `"}`, ""},
			{"page size past the schema's maximum", `{"url": "` + api.URL + `", "page_size": 500}`, "page_size"},
			{"not a URL", `{"url": "ftp://example.com"}`, "url"},
			{"a type the schema refuses", `{"url": "` + api.URL + `", "in_flight": "eight"}`, "in_flight"},
			{"an API that is not there", `{"url": "http://127.0.0.1:1"}`, "connect"},
			{"not JSON", `{"url": `, "JSON"},
		}
		for _, c := range cases {
			o, r := airbyteCmd(t, "check", "--config", writeFile(t, "config.json", []byte(c.config)))
			var st struct {
				ConnectionStatus struct{ Status, Message string } `json:"connectionStatus"`
			}
			if r.code != 0 || len(o.Raw["CONNECTION_STATUS"]) != 1 {
				t.Fatalf("%s: exit %d, %d statuses", c.name, r.code, len(o.Raw["CONNECTION_STATUS"]))
			}
			json.Unmarshal(o.Raw["CONNECTION_STATUS"][0], &st)
			cs := st.ConnectionStatus
			switch {
			case c.want == "" && cs.Status != "SUCCEEDED":
				t.Errorf("%s: %s %q", c.name, cs.Status, cs.Message)
			case c.want != "" && (cs.Status != "FAILED" || !strings.Contains(cs.Message, c.want)):
				t.Errorf("%s: %s %q, want FAILED saying %q", c.name, cs.Status, cs.Message, c.want)
			}
		}
	})

	// discover: every stream, with a schema, a key and a cursor.
	o, _ = airbyteCmd(t, "discover", "--config", cfg)
	if len(o.Raw["CATALOG"]) != 1 {
		t.Fatalf("discover: %d CATALOG messages", len(o.Raw["CATALOG"]))
	}
	catalog := o.Raw["CATALOG"][0]
	schemas := streamSchemas(t, catalog)
	if got := slices.Sorted(maps.Keys(schemas)); !slices.Equal(got, []string{"events", "orders", "users"}) {
		t.Fatalf("discover: streams %v", got)
	}
	if o, r := airbyteCmd(t, "discover", "--config", writeFile(t, "bad.json", []byte(`{"page_size": 0}`))); r.code != 1 ||
		len(o.Errors) != 1 || !strings.HasPrefix(o.Errors[0], "config_error: ") {
		t.Errorf("discover with a bad configuration: exit %d, errors %q", r.code, o.Errors)
	}

	incremental := jsonFile(t, "incremental.json", configuredCatalog(t, catalog, "incremental"))
	full := jsonFile(t, "full.json", configuredCatalog(t, catalog, "full_refresh"))

	// Two full reads give the same records: every version the API holds,
	// once.
	first := airbyteRead(t, cfg, incremental, nil, schemas)
	checkExactly(t, "first read", versions(first), truth(api))
	second := airbyteRead(t, cfg, full, first.LastStates(), schemas)
	checkExactly(t, "a full_refresh read, given the first's state", versions(second), truth(api))

	// The source changes; a read from the first's state gives only what
	// changed, and the records at the marks.
	api.Update(12)
	api.Insert(6)
	states := first.LastStates()
	inc := airbyteRead(t, cfg, incremental, states, schemas)
	checkIncremental(t, inc, states, versions(first), api)

	// A state from the future gives no records.
	future := protocoltest.Future(inc.LastStates())
	if o := airbyteRead(t, cfg, incremental, future, schemas); len(o.Records) != 0 {
		t.Errorf("a read from a state from the future wrote %d records", len(o.Records))
	}

	// A read of a catalog with a stream the source lacks fails as the
	// configuration's.
	bad := configuredCatalog(t, catalog, "incremental")
	bad["streams"] = append(bad["streams"].([]any), map[string]any{"stream": map[string]any{"name": "nope", "json_schema": map[string]any{},
		"supported_sync_modes": []string{"full_refresh"}}, "sync_mode": "full_refresh", "destination_sync_mode": "append"})
	if o, r := airbyteCmd(t, "read", "--config", cfg, "--catalog", jsonFile(t, "bad.json", bad)); r.code != 1 || len(o.Records) != 0 ||
		len(o.Errors) != 1 || !strings.Contains(o.Errors[0], "config_error") {
		t.Errorf("a read of an unknown stream: exit %d, %d records, errors %q", r.code, len(o.Records), o.Errors)
	}

	t.Run("kill", func(t *testing.T) { airbyteKills(t, api, cfg, incremental, schemas) })
}

// airbyteKills kills reads at random moments, each from nothing, then
// resumes each from the last states it wrote, with records inserted at
// the source in between.
func airbyteKills(t *testing.T, api *exampletest.API, cfg, cat string, schemas map[string]*jsonSchema) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 24))
	landed := 0
	for i := 0; landed < 3 && i < 12; i++ {
		r, killed := runKilled(t, api, 5+rng.IntN(80), "airbyte", "read", "--config", cfg, "--catalog", cat)
		first, err := protocoltest.ParseAirbyte(r.stdout)
		if err != nil {
			t.Fatalf("killed read: %v", err)
		}
		if !killed || len(first.States) == 0 {
			continue
		}
		landed++
		checkAirbyteRead(t, first, nil, schemas)
		api.Insert(2)
		states := first.LastStates()
		second := airbyteRead(t, cfg, cat, states, schemas)
		checkResume(t, first, second, states, api)
		t.Logf("kill %d: %d records and %d states before the kill, %d records after", landed, len(first.Records), len(first.States), len(second.Records))
	}
	if landed < 3 {
		t.Errorf("only %d of the kills landed mid-read", landed)
	}
}

// jsonSchema is a stream's compiled record schema.
type jsonSchema struct {
	s interface{ Validate(any) error }
}

func (j *jsonSchema) validate(data json.RawMessage) error {
	if j == nil {
		return fmt.Errorf("no schema")
	}
	var v any
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	return j.s.Validate(v)
}

// streamSchemas compiles the json_schema of each stream of a CATALOG
// message.
func streamSchemas(t *testing.T, catalog json.RawMessage) map[string]*jsonSchema {
	t.Helper()
	var msg struct {
		Catalog struct {
			Streams []struct {
				Name       string          `json:"name"`
				JSONSchema json.RawMessage `json:"json_schema"`
			} `json:"streams"`
		} `json:"catalog"`
	}
	if err := json.Unmarshal(catalog, &msg); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*jsonSchema)
	for _, s := range msg.Catalog.Streams {
		c, err := protocoltest.ValidateSchema(s.JSONSchema)
		if err != nil {
			t.Fatalf("stream %s: json_schema: %v", s.Name, err)
		}
		out[s.Name] = &jsonSchema{c}
	}
	return out
}
