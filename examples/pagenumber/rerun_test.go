package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// TestKillRerun is issue 10's multi-run check with real kill -9: syncs of
// one SQLite file, killed at random moments, with the source updated and
// grown between runs. After every sync that completes the table equals the
// source, and a trigger that counts every committed write of every record
// version shows none delivered twice, but for the boundary records that
// the next sync's inclusive updated_since reads again.
func TestKillRerun(t *testing.T) {
	bin := flagship(t)
	api := exampletest.Serve(t, mockapi.Config{Records: 600, Seed: 23, Latency: 2 * time.Millisecond, LatencyJitter: 6 * time.Millisecond})
	db := filepath.Join(t.TempDir(), "rerun.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))

	// marks are the Since of every sync after the first: each re-reads
	// the records at its mark once more.
	var marks []string
	kills := 0
	for sync := 1; sync <= 6; sync++ {
		var since string
		if sync > 1 {
			api.Update(rng.IntN(150) + 50) // moves records to the end, across page boundaries
			api.Insert(rng.IntN(100) + 1)  // grows the last page and adds pages
			since = checkpointSince(t, db)
			marks = append(marks, since)
		}
		for run := 1; ; run++ {
			if run > 20 {
				t.Fatalf("sync %d did not complete in 20 runs", sync)
			}
			killed, out := runKilled(t, bin, api, db, rng, sync > 1 && run < 4)
			if killed {
				kills++
				// A kill after the last commit leaves a completed
				// sync: the next run would be another sync.
				if cp, _ := sqliteCheckpoint(t, db); cp.Position.IsStart() && cp.Position.Since != since {
					break
				}
				continue
			}
			if sync == 1 && run == 1 {
				countDeliveries(t, db, out)
			}
			break
		}
		if diff := cmp.Diff(exampletest.ByID(api.Records()), exampletest.ReadUsers(t, db)); diff != "" {
			t.Fatalf("sync %d: table differs from the source (-source +table):\n%s", sync, diff)
		}
	}
	if kills == 0 {
		t.Error("no run was killed; the timing needs tuning")
	}
	t.Logf("%d kills over 6 syncs", kills)
	checkDeliveries(t, db, marks)
}

// runKilled runs the flagship once against api into db, killing it after a
// random number of requests when kill is set. It reports whether the run
// was killed.
func runKilled(t *testing.T, bin string, api *exampletest.API, db string, rng *rand.Rand, kill bool) (bool, string) {
	t.Helper()
	cmd := exec.Command(bin, "-url", api.URL+mockapi.PathPageNumber, "-per-page", "20", "-show", "0", "-db", db)
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if kill {
		after := time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
		api.After(rng.IntN(5)+1, func() { time.AfterFunc(after, func() { cmd.Process.Kill() }) })
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == -1 {
		return true, out.String()
	}
	if err != nil {
		t.Fatalf("run failed: %v\n%s", err, out)
	}
	return false, out.String()
}

// countDeliveries adds to db a table of every committed write of a record
// version, filled by triggers in the writes' own transactions, so that a
// page rolled back by a kill is not counted.
func countDeliveries(t *testing.T, db, out string) {
	t.Helper()
	d := openSQLite(t, db)
	defer d.Close()
	for _, q := range []string{
		`CREATE TABLE deliveries (id TEXT, updatedAt TEXT)`,
		`INSERT INTO deliveries SELECT id, updatedAt FROM "user"`,
		`CREATE TRIGGER count_insert AFTER INSERT ON "user" BEGIN INSERT INTO deliveries VALUES (NEW.id, NEW.updatedAt); END`,
		`CREATE TRIGGER count_update AFTER UPDATE ON "user" BEGIN INSERT INTO deliveries VALUES (NEW.id, NEW.updatedAt); END`,
	} {
		if _, err := d.Exec(q); err != nil {
			t.Fatalf("%s: %v\n%s", q, err, out)
		}
	}
}

// checkDeliveries checks that every record version was written once, or
// twice when it sat at the mark a later sync started from.
func checkDeliveries(t *testing.T, db string, marks []string) {
	t.Helper()
	d := openSQLite(t, db)
	defer d.Close()
	atMark := make(map[string]bool)
	for _, m := range marks {
		atMark[m] = true
	}
	rows, err := d.Query(`SELECT id, updatedAt, count(*) FROM deliveries GROUP BY id, updatedAt`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var wrong []string
	versions := 0
	for rows.Next() {
		var id, at string
		var n int
		if err := rows.Scan(&id, &at, &n); err != nil {
			t.Fatal(err)
		}
		versions++
		since := at[:len("2006-01-02T15:04:05")] + "Z"
		if want := 1; n != want && !(atMark[since] && n == 2) {
			wrong = append(wrong, fmt.Sprintf("%s at %s x%d", id, at, n))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(wrong) > 0 {
		t.Errorf("record versions delivered more than once (%d of %d): %v", len(wrong), versions, wrong)
	}
}

// checkpointSince returns the Since of the checkpoint in db, which must
// be that of a completed sync.
func checkpointSince(t *testing.T, db string) string {
	t.Helper()
	cp, found := sqliteCheckpoint(t, db)
	if !found || !cp.Position.IsStart() || cp.Position.Since == "" {
		t.Fatalf("checkpoint %+v after a completed sync, want the start at a mark", cp)
	}
	return cp.Position.Since
}

func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	d, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
