package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/protocol/protocoltest"
)

// streamSpecs say how to read each stream's records in the checks.
var streamSpecs = map[string]protocoltest.Stream{
	"users":  {Cursor: "updatedAt"},
	"orders": {Cursor: "updatedAt", Partition: "userId"},
	"events": {Cursor: "createdAt"},
}

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
)

// binary builds the command once for the package's tests.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the command; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pagekit-platforms")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "platforms")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// serve starts the mock API of the tests: 80 users with their orders, 150
// events.
func serve(t *testing.T) *exampletest.API {
	return exampletest.Serve(t, mockapi.Config{Records: 80, Seed: 7, Events: 150})
}

// writeFile writes b into a file of the test's directory and returns its
// path.
func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonFile writes v as JSON into a file and returns its path.
func jsonFile(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name, b)
}

// config is the configuration of the tests against api: pages of 20, so
// that a stream commits many pages.
func config(api *exampletest.API) map[string]any {
	return map[string]any{"url": api.URL, "page_size": 20, "in_flight": 8}
}

// result is how a run of the command went.
type result struct {
	stdout, stderr []byte
	code           int // -1 when killed
}

// runCmd runs the command with args to its end.
func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if strings.Contains(string(r.stderr), "panic:") || strings.Contains(string(r.stdout), "panic:") {
		t.Fatalf("%v panicked:\n%s%s", args, r.stdout, r.stderr)
	}
	return r
}

// runKilled runs the command with args against api, killed with SIGKILL
// once api has answered after requests, and reports whether the kill
// landed before the command ended.
func runKilled(t *testing.T, api *exampletest.API, after int, args ...string) (result, bool) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	api.After(after, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	api.After(1<<30, nil)
	r := result{stdout: out.Bytes(), stderr: errb.Bytes()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	}
	return r, r.code == -1
}

// truth returns every record version the API holds now, by stream, as
// "id@cursor".
func truth(api *exampletest.API) map[string]map[string]bool {
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	out := map[string]map[string]bool{"users": {}, "orders": {}, "events": {}}
	for _, u := range api.Records() {
		out["users"][u.ID+"@"+ts(u.UpdatedAt)] = true
		orders, _ := api.Orders(u.ID)
		for _, o := range orders {
			out["orders"][o.ID+"@"+ts(o.UpdatedAt)] = true
		}
	}
	for _, e := range api.Events() {
		out["events"][e.ID+"@"+ts(e.CreatedAt)] = true
	}
	return out
}

// versions returns the record versions of an output by stream, counted.
func versions(o *protocoltest.Output) map[string]map[string]int {
	return protocoltest.Versions(o, streamSpecs, "id")
}

// checkExactly fails unless got holds each version of want exactly once,
// and nothing else.
func checkExactly(t *testing.T, what string, got map[string]map[string]int, want map[string]map[string]bool) {
	t.Helper()
	for _, s := range slices.Sorted(maps.Keys(want)) {
		var missing, extra, twice int
		for v := range want[s] {
			switch n := got[s][v]; {
			case n == 0:
				missing++
			case n > 1:
				twice++
			}
		}
		for v := range got[s] {
			if !want[s][v] {
				extra++
			}
		}
		if missing+extra+twice > 0 || len(want[s]) == 0 {
			t.Errorf("%s: stream %s: %d of %d versions missing, %d not in the API, %d written twice", what, s, missing, len(want[s]), extra, twice)
		}
	}
}

// markOf returns the mark of a stream's partition (key "" for a top-level
// stream) in states.
func markOf(t *testing.T, states map[string]json.RawMessage, stream, key string) string {
	t.Helper()
	var st struct {
		Checkpoint struct {
			HighWater string `json:"high_water"`
		} `json:"checkpoint"`
		Partitions map[string]struct {
			HighWater string `json:"high_water"`
		} `json:"partitions"`
	}
	if raw := states[stream]; raw != nil {
		if err := json.Unmarshal(raw, &st); err != nil {
			t.Fatal(err)
		}
	}
	if key == "" {
		return st.Checkpoint.HighWater
	}
	return st.Partitions[key].HighWater
}

// checkIncremental checks the records of a sync from the states of an
// earlier one, whose records were before: every version the API holds
// that before lacks is there, and every other record is one at its
// stream's or partition's mark, which an inclusive filter serves again.
func checkIncremental(t *testing.T, o *protocoltest.Output, states map[string]json.RawMessage, before map[string]map[string]int, api *exampletest.API) {
	t.Helper()
	now := truth(api)
	got := versions(o)
	changed := 0
	for s, vs := range now {
		for v := range vs {
			if before[s][v] == 0 {
				changed++
				if got[s][v] == 0 {
					t.Errorf("incremental: stream %s: the changed version %s is missing", s, v)
				}
			}
		}
	}
	if changed == 0 {
		t.Fatal("incremental: nothing changed at the source: the test proves nothing")
	}
	for _, r := range o.Records {
		spec := streamSpecs[r.Stream]
		v := r.Field("id") + "@" + r.Field(spec.Cursor)
		if before[r.Stream][v] == 0 {
			continue
		}
		key := ""
		if spec.Partition != "" {
			key = r.Field(spec.Partition)
		}
		if mark := markOf(t, states, r.Stream, key); !sameTime(mark, r.Field(spec.Cursor)) {
			t.Errorf("incremental: line %d: stream %s wrote %s again, which is neither changed nor at the mark %q", r.Line, r.Stream, v, mark)
		}
	}
}

func sameTime(a, b string) bool {
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && ta.Equal(tb)
}

// checkResume checks a run killed (first) and the run resumed from the
// last states it wrote (second): together they hold every version the API
// holds, and a version both wrote was either written by first after the
// last state of its stream, or is at the mark of its stream or partition
// in states.
func checkResume(t *testing.T, first, second *protocoltest.Output, states map[string]json.RawMessage, api *exampletest.API) {
	t.Helper()
	lastState := make(map[string]int) // line of each stream's last state in first
	for _, st := range first.States {
		for name := range st.Streams {
			lastState[name] = st.Line
		}
	}
	covered := make(map[string]map[string]bool) // versions first wrote before its stream's last state
	for _, r := range first.Records {
		if r.Line < lastState[r.Stream] {
			if covered[r.Stream] == nil {
				covered[r.Stream] = make(map[string]bool)
			}
			covered[r.Stream][r.Field("id")+"@"+r.Field(streamSpecs[r.Stream].Cursor)] = true
		}
	}
	a, b := versions(first), versions(second)
	for s, vs := range truth(api) {
		for v := range vs {
			if a[s][v]+b[s][v] == 0 {
				t.Errorf("resume: stream %s: version %s is missing from both runs", s, v)
			}
		}
	}
	for _, r := range second.Records {
		spec := streamSpecs[r.Stream]
		v := r.Field("id") + "@" + r.Field(spec.Cursor)
		if !covered[r.Stream][v] {
			continue
		}
		key := ""
		if spec.Partition != "" {
			key = r.Field(spec.Partition)
		}
		if mark := markOf(t, states, r.Stream, key); !sameTime(mark, r.Field(spec.Cursor)) {
			t.Errorf("resume: line %d: stream %s wrote %s again, which the state covered and is not at its mark %q", r.Line, r.Stream, v, mark)
		}
	}
}
