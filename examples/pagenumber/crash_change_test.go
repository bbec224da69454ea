package main

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
)

// TestKillChanging is the resume guarantee of docs/consistency.md with a
// real kill -9: syncs of one SQLite file by the flagship, each killed one
// to three times, with records updated during the killed runs (just before
// the kill) and updated and inserted between the kills, as live APIs'
// records are. Records committed before a kill that move to the end shift
// the pages after them, across the page boundary where the sync resumes
// or one the killed run had passed. After every sync that completes, each
// record of the source is in the table at its version or at or after the
// next sync's Since; after a sync on a quiet source, the table equals the
// source.
func TestKillChanging(t *testing.T) {
	bin := flagship(t)
	api := exampletest.Serve(t, mockapi.Config{Records: 1000, Seed: 31, Latency: 2 * time.Millisecond, LatencyJitter: 6 * time.Millisecond})
	db := filepath.Join(t.TempDir(), "changing.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))

	kills, resumed := 0, 0
	for sync := 1; sync <= 4; sync++ {
		if sync > 1 {
			api.Update(150 + rng.IntN(100)) // an incremental sync of some pages
		}
		for run, n := 1, 1+rng.IntN(3); ; run++ {
			if run > n {
				// The sync's last run, to its end.
				if killed, out := runChanging(t, bin, api, db, 0, 0); killed {
					t.Fatalf("sync %d: a run that was not killed died:\n%s", sync, out)
				}
				break
			}
			if killed, _ := runChanging(t, bin, api, db, 1+rng.IntN(12), rng.IntN(6)); killed {
				kills++
				if cp, _ := sqliteCheckpoint(t, db); !cp.Position.IsStart() {
					resumed++
				}
			}
			api.Update(1 + rng.IntN(10)) // the case: 10 records updated while the sync is stopped
			api.Insert(rng.IntN(4))
		}
		cp, _ := sqliteCheckpoint(t, db)
		if missed := missing(api.Records(), exampletest.ReadUsers(t, db), cp.Position.Since); len(missed) > 0 {
			t.Errorf("after sync %d, %d records are neither in the table at their version nor at or after the next sync's since %q: %v",
				sync, len(missed), cp.Position.Since, missed)
		}
	}
	if killed, out := runChanging(t, bin, api, db, 0, 0); killed {
		t.Fatalf("the quiet sync died:\n%s", out)
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, db)); diff != "" {
		t.Errorf("after a sync on a quiet source, the table differs from it (-source +table):\n%s", diff)
	}
	t.Logf("%d kills, %d of them in the middle of a sync", kills, resumed)
	if resumed == 0 {
		t.Error("no kill left a sync in progress; the timing needs tuning")
	}
}

// runChanging runs the flagship once against api into db. With killAt > 0
// it updates moved records once the API has answered killAt requests, and
// kills the run a moment later. It reports whether the run was killed.
func runChanging(t *testing.T, bin string, api *exampletest.API, db string, killAt, moved int) (bool, string) {
	t.Helper()
	cmd := exec.Command(bin, "-url", api.URL+mockapi.PathPageNumber, "-per-page", strconv.Itoa(20), "-show", "0", "-db", db)
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if killAt > 0 {
		api.After(killAt, func() {
			api.Update(moved)
			time.AfterFunc(3*time.Millisecond, func() { cmd.Process.Kill() })
		})
	}
	err := cmd.Wait()
	api.After(0, nil) // a run that ended before the kill leaves none for the next
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == -1 {
		return true, out.String()
	}
	if err != nil {
		t.Fatalf("run failed: %v\n%s", err, out)
	}
	return false, out.String()
}

// missing returns the ids of the records of src that are neither in rows
// at their version nor at or after since, where the next sync starts.
func missing(src, rows []mockapi.User, since string) []string {
	have := make(map[string]mockapi.User, len(rows))
	for _, u := range rows {
		have[u.ID] = u
	}
	var out []string
	for _, u := range src {
		if row, ok := have[u.ID]; ok && row.UpdatedAt.Equal(u.UpdatedAt) || u.UpdatedAt.UTC().Format(sinceLayout) >= since {
			continue
		}
		out = append(out, u.ID)
	}
	return out
}
