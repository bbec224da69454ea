package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/sqlite"
)

var (
	buildOnce sync.Once
	binPath   string
	binErr    error
)

// binary builds the command once for the package's tests and returns its
// path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the command; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pagekit-connector")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "connector")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// TestKillNine kills the command with SIGKILL at random moments of two
// syncs of one SQLite file, the source updated and grown between them, and
// reruns it each time. After each sync completes every table equals the
// mock's data, and triggers that count every committed write of every
// record version show none written twice, but for the versions at a mark
// that an incremental read starts from again: a stream's (each run after a
// stream completed reads it again from its new mark), or a user's orders'.
func TestKillNine(t *testing.T) {
	bin := binary(t)
	api := exampletest.Serve(t, mockapi.Config{Records: 300, Seed: 17, Events: 400, Latency: 2 * time.Millisecond, LatencyJitter: 6 * time.Millisecond})
	db := filepath.Join(t.TempDir(), "kill.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))

	// -discover creates the tables without syncing; the triggers go in
	// before any row does.
	if out, err := exec.Command(bin, "-url", api.URL, "-db", db, "-discover").CombinedOutput(); err != nil {
		t.Fatalf("-discover: %v\n%s", err, out)
	}
	countDeliveries(t, db)

	var marks []string // the users' and events' marks later runs start from
	kills, midSync := 0, 0
	for sync := 1; sync <= 2; sync++ {
		if sync > 1 {
			api.Update(40)
			api.Insert(15)
		}
		for run := 1; ; run++ {
			if run > 25 {
				t.Fatalf("sync %d did not complete in 25 runs", sync)
			}
			marks = append(marks, stateSince(t, db, "users"), stateSince(t, db, "events"))
			// The first sync is killed until it has been killed at least
			// eight times: an incremental sync can complete before its kill
			// point, so the second may add none.
			kill := run <= 6 || (sync == 1 && kills < 8)
			killed, out := runKilled(t, bin, served{api}, db, rng, kill, 60, "-in-flight", "8")
			if !killed {
				if !strings.Contains(out, "Sync of 3 streams complete") {
					t.Fatalf("sync %d run %d exited 0 without completing:\n%s", sync, run, out)
				}
				t.Logf("sync %d: complete after %d runs", sync, run)
				break
			}
			kills++
			if n := countRows(t, db); n > 0 {
				midSync++
			}
		}
		checkTables(t, api.Server, db)
	}
	if kills < 8 || midSync < kills/2 {
		t.Errorf("%d kills, %d of them with rows committed: the timing needs tuning", kills, midSync)
	}
	t.Logf("%d kills", kills)
	checkDeliveries(t, api.Server, db, marks)
}

// runKilled runs the command once against api into db, killed within the
// first `within` requests when kill is set, with extra flags, and reports
// whether it was killed.
func runKilled(t *testing.T, bin string, api killable, db string, rng *rand.Rand, kill bool, within int, extra ...string) (bool, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-url", api.BaseURL(), "-db", db}, extra...)...)
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if kill {
		after := time.Duration(rng.Int64N(int64(5 * time.Millisecond)))
		api.After(rng.IntN(within)+1, func() { time.AfterFunc(after, func() { cmd.Process.Kill() }) })
	}
	err := cmd.Wait()
	api.After(1<<30, nil)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == -1 {
		return true, out.String()
	}
	if err != nil {
		t.Fatalf("run failed: %v\n%s", err, out)
	}
	return false, out.String()
}

// killable is an API the tests can kill the command in the middle of: it
// calls a function after a number of requests.
type killable interface {
	BaseURL() string
	After(n int, f func())
}

// served is exampletest.API as a killable.
type served struct{ *exampletest.API }

func (s served) BaseURL() string { return s.URL }

// countDeliveries adds to db a table of every committed write of a record
// version, filled by triggers in the writes' own transactions, so that a
// page rolled back by a kill is not counted.
func countDeliveries(t *testing.T, db string) {
	t.Helper()
	d, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	qs := []string{`CREATE TABLE deliveries (tbl TEXT, id TEXT, version TEXT)`}
	for tbl, version := range map[string]string{"users": "updatedAt", "orders": "updatedAt", "events": "createdAt"} {
		for _, op := range []string{"INSERT", "UPDATE"} {
			qs = append(qs, fmt.Sprintf(`CREATE TRIGGER count_%s_%s AFTER %s ON %s BEGIN INSERT INTO deliveries VALUES ('%s', NEW.id, NEW.%s); END`,
				tbl, strings.ToLower(op), op, tbl, tbl, version))
		}
	}
	for _, q := range qs {
		if _, err := d.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// checkDeliveries checks that every record version was written once, or
// more when it sat at a mark: marks for users and events, and for an order
// its user's latest order's updatedAt, the mark its partition reads again
// from when it is visited again.
func checkDeliveries(t *testing.T, api *mockapi.Server, db string, marks []string) {
	t.Helper()
	atMark := make(map[string]bool)
	for _, m := range marks {
		atMark[m] = true
	}
	userMark := make(map[string]string) // order id -> its user's orders' mark
	for _, u := range api.Records() {
		os, _ := api.Orders(u.ID)
		if len(os) > 0 {
			m := mark(os[len(os)-1].UpdatedAt)
			for _, o := range os {
				userMark[o.ID] = m
			}
		}
	}
	d, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var wrong []string
	versions, again := 0, 0
	query(t, d, `SELECT tbl, id, version, count(*) FROM deliveries GROUP BY tbl, id, version`, func(s scanner) error {
		var tbl, id, version string
		var n int
		if err := s.Scan(&tbl, &id, &version, &n); err != nil {
			return err
		}
		versions++
		if n == 1 {
			return nil
		}
		again++
		at := mark(parse(version))
		if atMark[at] && tbl != "orders" || tbl == "orders" && userMark[id] == at {
			return nil
		}
		wrong = append(wrong, fmt.Sprintf("%s %s at %s x%d", tbl, id, version, n))
		return nil
	})
	t.Logf("%d record versions written, %d of them again at a mark", versions, again)
	if len(wrong) > 0 {
		t.Errorf("record versions written more than once, not at a mark (%d of %d): %v", len(wrong), versions, wrong)
	}
}

// stateSince returns the Since of a top-level stream's checkpoint, the mark
// its next run reads from; "" when it has none.
func stateSince(t *testing.T, db, stream string) string {
	t.Helper()
	cp, _ := loadCheckpoint(t, db, stream)
	return cp.Position.Since
}

// loadCheckpoint returns the checkpoint of stream in db, and whether there
// is one (no state table yet is none).
func loadCheckpoint(t *testing.T, db, stream string) (paginate.Checkpoint, bool) {
	t.Helper()
	d, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var text string
	err = d.QueryRow(`SELECT checkpoint FROM _pagekit_state WHERE stream = ?`, stream).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) || err != nil && strings.Contains(err.Error(), "no such table") {
		return paginate.Checkpoint{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var cp paginate.Checkpoint
	if err := json.Unmarshal([]byte(text), &cp); err != nil {
		t.Fatalf("checkpoint of %s: %v", stream, err)
	}
	return cp, true
}

func countRows(t *testing.T, db string) int {
	t.Helper()
	d, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRow(`SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM events)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
