package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/protocol/protocoltest"
)

// TestServeAirbyte runs the spec of users and their orders (OAuth 2.0,
// a child stream) as an Airbyte source: its configuration is the spec's
// variables, the client secret a secret; check, discover, then two
// incremental reads, the second from the first's state after changes:
// every state follows the records it covers, and the records of the two
// reads are the mock's.
func TestServeAirbyte(t *testing.T) {
	const secret = "cs-99aa88bb77cc"
	a := serve(t, mockapi.Config{Records: 60, Seed: 9, OAuth: mockapi.OAuth{ClientID: "pagekit-test", ClientSecret: secret, Require: true}})
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conf := write("config.json", map[string]string{"API": a.URL, "CLIENT_SECRET": secret})
	airbyte := func(args ...string) *protocoltest.Output {
		t.Helper()
		code, stdout, stderr := run(t, append([]string{"serve", "airbyte", "testdata/shop.yaml"}, args...)...)
		if code != 0 {
			t.Fatalf("airbyte %s: status %d\n%s%s", args[0], code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("airbyte %s: the client secret shows in the output", args[0])
		}
		o, err := protocoltest.ParseAirbyte([]byte(stdout))
		if err != nil {
			t.Fatalf("airbyte %s: %v\n%s", args[0], err, stdout)
		}
		return o
	}

	sp := airbyte("spec")
	var specMsg struct {
		Spec struct {
			ConnectionSpecification struct {
				Properties map[string]struct {
					AirbyteSecret bool `json:"airbyte_secret"`
				}
			}
		}
	}
	if err := json.Unmarshal(sp.Raw["SPEC"][0], &specMsg); err != nil {
		t.Fatal(err)
	}
	props := specMsg.Spec.ConnectionSpecification.Properties
	if _, ok := props["API"]; !ok || !props["CLIENT_SECRET"].AirbyteSecret || props["API"].AirbyteSecret {
		t.Errorf("the configuration's properties: %s", sp.Raw["SPEC"][0])
	}
	if ck := airbyte("check", "--config", conf); !strings.Contains(string(ck.Raw["CONNECTION_STATUS"][0]), "SUCCEEDED") {
		t.Errorf("check: %s", ck.Raw["CONNECTION_STATUS"][0])
	}
	cat := airbyte("discover", "--config", conf)
	var catalog struct {
		Catalog struct {
			Streams []struct {
				Name          string
				DefaultCursor []string `json:"default_cursor_field"`
				JSONSchema    struct {
					Properties map[string]json.RawMessage
				} `json:"json_schema"`
			}
		}
	}
	if err := json.Unmarshal(cat.Raw["CATALOG"][0], &catalog); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range catalog.Catalog.Streams {
		got = append(got, s.Name+" "+strings.Join(s.DefaultCursor, ",")+" "+strings.Join(slices.Sorted(mapsKeys(s.JSONSchema.Properties)), ","))
	}
	want := []string{
		"users updatedAt address,company,createdAt,email,id,job,name,updatedAt",
		"orders updatedAt amount,createdAt,currency,id,status,updatedAt,userId",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalog (-want +got):\n%s", diff)
	}

	catFile := write("catalog.json", map[string]any{"streams": []any{
		map[string]any{"stream": map[string]any{"name": "users", "json_schema": map[string]any{}, "supported_sync_modes": []string{"incremental"}},
			"sync_mode": "incremental", "destination_sync_mode": "append_dedup"},
		map[string]any{"stream": map[string]any{"name": "orders", "json_schema": map[string]any{}, "supported_sync_modes": []string{"incremental"}},
			"sync_mode": "incremental", "destination_sync_mode": "append_dedup"},
	}})
	streams := map[string]protocoltest.Stream{"users": {Cursor: "updatedAt"}, "orders": {Cursor: "updatedAt", Partition: "userId"}}
	users, orders := make(map[string]string), make(map[string]string)
	var state map[string]json.RawMessage
	for round := range 2 {
		args := []string{"read", "--config", conf, "--catalog", catFile}
		if round > 0 {
			a.Update(10)
			args = append(args, "--state", filepath.Join(dir, "state.json"))
		}
		out := airbyte(args...)
		if err := protocoltest.CheckStates(out, state, streams); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		collect(out, users, orders)
		state = out.LastStates()
		if err := os.WriteFile(filepath.Join(dir, "state.json"), protocoltest.AirbyteStateFile(state), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	wantUsers, wantOrders := mockVersions(a)
	if diff := cmp.Diff(wantUsers, users); diff != "" {
		t.Errorf("users read (-mock +read):\n%s", diff)
	}
	if diff := cmp.Diff(wantOrders, orders); diff != "" {
		t.Errorf("orders read (-mock +read):\n%s", diff)
	}
}

// collect adds the users (id: updatedAt) and orders (id: userId) of a
// protocol's output to the maps.
func collect(out *protocoltest.Output, users, orders map[string]string) {
	for _, r := range out.Records {
		switch r.Stream {
		case "users":
			users[r.Field("id")] = r.Field("updatedAt")
		case "orders":
			orders[r.Field("id")] = r.Field("userId")
		}
	}
}

// mockVersions returns the mock's users (id: updatedAt) and orders (id:
// userId), as collect reads them.
func mockVersions(a *api) (users, orders map[string]string) {
	users, orders = make(map[string]string), make(map[string]string)
	for _, u := range a.Records() {
		users[u.ID] = u.UpdatedAt.UTC().Format(time.RFC3339)
		os, _ := a.Orders(u.ID)
		for _, o := range os {
			orders[o.ID] = o.UserID
		}
	}
	return users, orders
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestServeSinger discovers the spec as a Singer tap and syncs it: a
// valid catalog, every user once.
func TestServeSinger(t *testing.T) {
	a := serve(t, mockapi.Config{Records: 30, Seed: 2})
	conf := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(conf, []byte(`{"API_URL": "`+a.URL+mockapi.PathPageNumber+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "serve", "singer", flagshipSpec, "--config", conf, "--discover")
	if code != 0 {
		t.Fatalf("--discover: status %d\n%s", code, stderr)
	}
	if err := protocoltest.ValidateSingerCatalog([]byte(stdout)); err != nil {
		t.Errorf("catalog: %v\n%s", err, stdout)
	}
	code, stdout, stderr = run(t, "serve", "singer", flagshipSpec, "--config", conf)
	if code != 0 {
		t.Fatalf("sync: status %d\n%s", code, stderr)
	}
	out, err := protocoltest.ParseSinger([]byte(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if err := protocoltest.CheckStates(out, nil, map[string]protocoltest.Stream{"user": {Cursor: "updatedAt"}}); err != nil {
		t.Error(err)
	}
	if len(out.Records) != a.Len() {
		t.Errorf("%d records, want %d", len(out.Records), a.Len())
	}
}
