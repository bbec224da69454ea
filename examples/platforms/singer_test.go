package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/protocol/protocoltest"
)

// singerSync runs a sync from states (nil: none) with the catalog cat
// ("" for none) and checks what every sync must hold: its messages
// validate, each RECORD comes after its stream's SCHEMA, and each STATE
// follows the records it covers.
func singerSync(t *testing.T, cfg, cat string, states map[string]json.RawMessage) *protocoltest.Output {
	t.Helper()
	args := []string{"singer", "--config", cfg}
	if cat != "" {
		args = append(args, "--catalog", cat)
	}
	if states != nil {
		args = append(args, "--state", writeFile(t, "state.json", protocoltest.SingerStateFile(states)))
	}
	r := runCmd(t, args...)
	if r.code != 0 {
		t.Fatalf("sync: exit %d:\n%s", r.code, r.stderr)
	}
	o, err := protocoltest.ParseSinger(r.stdout)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if err := protocoltest.CheckStates(o, states, streamSpecs); err != nil {
		t.Errorf("sync: states: %v", err)
	}
	return o
}

// TestSinger runs the example as a Singer tap against the mock API, as
// Meltano does: discovery, a sync of a catalog that leaves a stream out,
// two full syncs, an incremental sync after the source changed, a sync
// from a state from the future, and syncs killed with SIGKILL then
// resumed from the last STATE they wrote.
func TestSinger(t *testing.T) {
	api := serve(t)
	cfg := jsonFile(t, "config.json", config(api))

	r := runCmd(t, "singer", "--config", cfg, "--discover")
	if r.code != 0 {
		t.Fatalf("--discover: exit %d: %s", r.code, r.stderr)
	}
	if err := protocoltest.ValidateSingerCatalog(r.stdout); err != nil {
		t.Fatalf("--discover: the catalog: %v", err)
	}
	var cat struct {
		Streams []map[string]any `json:"streams"`
	}
	if err := json.Unmarshal(r.stdout, &cat); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cat.Streams {
		names = append(names, s["tap_stream_id"].(string))
		md := s["metadata"].([]any)[0].(map[string]any)["metadata"].(map[string]any)
		if md["selected"] != true || md["replication-method"] != "INCREMENTAL" || md["replication-key"] == nil || md["table-key-properties"] == nil {
			t.Errorf("--discover: stream %s: metadata %v", s["tap_stream_id"], md)
		}
	}
	if strings.Join(names, ",") != "users,orders,events" {
		t.Fatalf("--discover: streams %v", names)
	}
	all := writeFile(t, "catalog.json", r.stdout)

	// A bad configuration fails with a message, and nothing on stdout.
	for _, bad := range []string{`{"page_size": 500}`, `{"url": "ftp://x"}`, `[`} {
		r := runCmd(t, "singer", "--config", writeFile(t, "bad.json", []byte(bad)), "--discover")
		if r.code != 1 || len(r.stdout) != 0 || !strings.Contains(string(r.stderr), "ERROR") {
			t.Errorf("config %s: exit %d, stdout %q, stderr %q", bad, r.code, r.stdout, r.stderr)
		}
	}

	// A catalog that leaves events out syncs the others only.
	cat.Streams[2]["metadata"].([]any)[0].(map[string]any)["metadata"].(map[string]any)["selected"] = false
	o := singerSync(t, cfg, jsonFile(t, "noevents.json", cat), nil)
	if o.Types["RECORD"] == 0 || versions(o)["events"] != nil {
		t.Errorf("a catalog without events: %d records, %d of events", o.Types["RECORD"], len(versions(o)["events"]))
	}

	// Two full syncs give the same records; the first's state then gives
	// only what changed; a state from the future nothing.
	first := singerSync(t, cfg, all, nil)
	checkExactly(t, "first sync", versions(first), truth(api))
	second := singerSync(t, cfg, "", nil)
	checkExactly(t, "second full sync", versions(second), truth(api))
	api.Update(10)
	api.Insert(4)
	states := first.LastStates()
	inc := singerSync(t, cfg, all, states)
	checkIncremental(t, inc, states, versions(first), api)
	if o := singerSync(t, cfg, all, protocoltest.Future(inc.LastStates())); len(o.Records) != 0 {
		t.Errorf("a sync from a state from the future wrote %d records", len(o.Records))
	}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 25))
	landed := 0
	for i := 0; landed < 3 && i < 12; i++ {
		r, killed := runKilled(t, api, 5+rng.IntN(80), "singer", "--config", cfg, "--catalog", all)
		first, err := protocoltest.ParseSinger(r.stdout)
		if err != nil {
			t.Fatalf("killed sync: %v", err)
		}
		if !killed || len(first.States) == 0 {
			continue
		}
		landed++
		if err := protocoltest.CheckStates(first, nil, streamSpecs); err != nil {
			t.Errorf("killed sync: states: %v", err)
		}
		api.Insert(2)
		states := first.LastStates()
		second := singerSync(t, cfg, all, states)
		checkResume(t, first, second, states, api)
	}
	if landed < 3 {
		t.Errorf("only %d of the kills landed mid-sync", landed)
	}
}
