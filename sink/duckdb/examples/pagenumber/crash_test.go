package main

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/duckdb"
)

// childArgs, in the environment, makes the test binary run the command
// with these arguments (JSON) instead of the tests: the kill test's child
// is this very binary, so DuckDB's library is linked once, for both.
const childArgs = "PAGEKIT_PAGENUMBER_ARGS"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			panic(err)
		}
		os.Args = append([]string{"pagenumber"}, args...)
		main()
		return
	}
	os.Exit(m.Run())
}

// api is the mock API on 127.0.0.1, which calls a function after a number
// of requests.
type api struct {
	*mockapi.Server
	url   string
	mu    sync.Mutex
	n, at int
	after func()
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.Server.ServeHTTP(w, r)
	a.mu.Lock()
	a.n++
	var f func()
	if a.after != nil && a.n >= a.at {
		f, a.after = a.after, nil
	}
	a.mu.Unlock()
	if f != nil {
		f()
	}
}

func (a *api) afterRequests(n int, f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.at, a.after = a.n+n, f
}

// TestCrashDuckDB kills the command with SIGKILL at random moments of
// syncs into DuckDB while the API gains records (as a live API does), and
// restarts it each time. After every kill the table holds exactly the
// records of the pages before the checkpoint (and, in an incremental
// sync, every record older than its window), nothing past it; each sync
// ends with every record up to its high-water mark, and a last sync on a
// quiet API with the API's records, exactly.
func TestCrashDuckDB(t *testing.T) {
	if testing.Short() {
		t.Skip("kills processes; skipped with -short")
	}
	const (
		perPage  = 20
		kills    = 24
		minKills = 20
	)
	srv := &api{Server: mockapi.New(mockapi.Config{Records: 1500, Seed: 17, Latency: 5 * time.Millisecond, LatencyJitter: 15 * time.Millisecond})}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	srv.url = hs.URL + mockapi.PathPageNumber
	dir := t.TempDir()
	var file string

	// The API gains two records every 50 ms while the test kills.
	stop, inserted := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		defer func() { inserted <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				srv.Insert(2)
				n += 2
			}
		}
	}()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	killed, midSync, syncs := 0, 0, 0
	start := time.Now()
	soft, hard := start.Add(60*time.Second), start.Add(150*time.Second)
	enough := func() bool { return killed >= kills || killed >= minKills && time.Now().After(soft) }
	run := func(kill bool) (done bool) {
		cmd := child(t, "-url", srv.url, "-per-page", strconv.Itoa(perPage), "-show", "0", "-duckdb", file)
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if kill {
			k := func() { cmd.Process.Kill() }
			if n := rng.IntN(24); n < 3 {
				time.AfterFunc(time.Duration(rng.Int64N(int64(300*time.Millisecond))), k)
			} else {
				after := time.Duration(rng.Int64N(int64(10 * time.Millisecond)))
				srv.afterRequests(n, func() { time.AfterFunc(after, k) })
			}
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		done = !errors.As(err, &exit) || exit.ExitCode() != -1
		if done && err != nil {
			t.Fatalf("run failed: %v\n%s", err, out)
		}
		return done
	}
	// Each round is a full sync into a new file, killed until it
	// completes.
	for round := 1; !enough(); round++ {
		file = filepath.Join(dir, fmt.Sprintf("round%d.duckdb", round))
		for {
			if time.Now().After(hard) {
				t.Fatalf("out of time after %d kills", killed)
			}
			done := run(!enough())
			if !done {
				killed++
			}
			complete, page := checkState(t, file, srv.Records(), perPage)
			if done && !complete {
				t.Fatal("a run exited 0 without completing its sync")
			}
			if complete {
				syncs++
				break
			}
			if page > 1 {
				midSync++
			}
		}
	}
	// An incremental sync of the records inserted meanwhile, then one more
	// on a quiet API.
	run(false)
	close(stop)
	n := <-inserted
	if complete, _ := checkState(t, file, srv.Records(), perPage); !complete {
		t.Fatal("the last sync did not complete")
	}
	run(false)
	rows, _, _ := readState(t, file)
	if diff := gocmp.Diff(byID(srv.Records()), rows); diff != "" {
		t.Errorf("final table (-API +table):\n%s", diff)
	}
	t.Logf("%d kills in %v, %d mid-sync; %d syncs completed under kills; %d records inserted meanwhile",
		killed, time.Since(start).Round(time.Millisecond), midSync, syncs, n)
	if midSync < killed/2 {
		t.Errorf("only %d of %d kills hit a sync in progress; the timing needs tuning", midSync, killed)
	}
}

// child returns the command, run as this test binary's child.
func child(t *testing.T, args ...string) *exec.Cmd {
	a, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+string(a))
	return cmd
}

// checkState checks the table against the checkpoint beside it, given the
// API's records now (which have only gained records since the pages were
// served, at the end of the order): it returns whether the checkpoint is
// that of a completed sync, and else its page.
func checkState(t *testing.T, file string, data []mockapi.User, perPage int) (complete bool, page int64) {
	t.Helper()
	rows, cp, found := readState(t, file)
	var want []mockapi.User
	switch {
	case !found:
	case cp.Position.IsStart():
		hw, err := time.Parse(sinceLayout, cp.Position.Since)
		if err != nil {
			t.Fatalf("completed sync's checkpoint %+v: %v", cp, err)
		}
		for _, u := range data {
			if !u.UpdatedAt.After(hw) {
				want = append(want, u)
			}
		}
		complete = true
	default:
		page = cp.Position.Page
		var since time.Time
		if cp.Position.Since != "" {
			var err error
			if since, err = time.Parse(sinceLayout, cp.Position.Since); err != nil {
				t.Fatalf("checkpoint %+v: %v", cp, err)
			}
		}
		// Every record older than the window, then the window's
		// listing up to the checkpoint.
		var listing []mockapi.User
		for _, u := range data {
			if u.UpdatedAt.Before(since) {
				want = append(want, u)
			} else {
				listing = append(listing, u)
			}
		}
		slices.SortFunc(listing, func(a, b mockapi.User) int {
			return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.ID, b.ID))
		})
		seen := make(map[string]bool)
		for _, u := range want {
			seen[u.ID] = true
		}
		for _, u := range listing[:min(int(page-1)*perPage, len(listing))] {
			if !seen[u.ID] {
				want = append(want, u)
			}
		}
	}
	if diff := gocmp.Diff(byID(want), rows, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("checkpoint %+v does not match the rows (-records before the checkpoint +table):\n%s", cp, diff)
	}
	return complete, page
}

// readState reads the table, sorted by id, and the checkpoint from the
// DuckDB file, which no process holds.
func readState(t *testing.T, file string) ([]mockapi.User, paginate.Checkpoint, bool) {
	t.Helper()
	db, err := duckdb.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var cp paginate.Checkpoint
	var text string
	found := true
	err = db.QueryRowContext(ctx, `SELECT checkpoint FROM _pagekit_state WHERE stream = 'user'`).Scan(&text)
	switch {
	case errors.Is(err, sql.ErrNoRows) || err != nil && bytes.Contains([]byte(err.Error()), []byte("does not exist")):
		found = false
	case err != nil:
		t.Fatal(err)
	default:
		if err := json.Unmarshal([]byte(text), &cp); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT id, name, email, address, company, job, "updatedAt", "createdAt" FROM "user" ORDER BY id`)
	if err != nil {
		if !found {
			return nil, cp, false
		}
		t.Fatal(err)
	}
	defer rows.Close()
	var out []mockapi.User
	for rows.Next() {
		var u mockapi.User
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Address, &u.Company, &u.Job, &u.UpdatedAt, &u.CreatedAt); err != nil {
			t.Fatal(err)
		}
		u.UpdatedAt, u.CreatedAt = u.UpdatedAt.UTC(), u.CreatedAt.UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out, cp, found
}

func byID(users []mockapi.User) []mockapi.User {
	out := slices.Clone(users)
	slices.SortFunc(out, func(a, b mockapi.User) int { return cmp.Compare(a.ID, b.ID) })
	return out
}
