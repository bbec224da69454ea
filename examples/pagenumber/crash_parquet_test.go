package main

import (
	"bytes"
	stdcmp "cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pagekit/pagekit/examples/internal/exampletest"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/parquet"
)

// TestCrashParquet is TestCrash into Parquet files (-parquet): after every
// kill the table the manifest lists holds exactly the pages before its
// checkpoint. Readers run all the while, each reading the manifest and
// every file it lists: none may ever meet a torn file, a duplicate key or
// rows that disagree with the checkpoint beside them.
func TestCrashParquet(t *testing.T) {
	root := t.TempDir()
	// crashTest's dataset: the same config gives the same records.
	data := mockapi.New(mockapi.Config{Records: 2000, Seed: 17}).Records()
	var reads, nonEmpty atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		t.Logf("%d reads during the kills, %d of them with rows", reads.Load(), nonEmpty.Load())
		if nonEmpty.Load() == 0 {
			t.Error("no reader saw a row")
		}
	})
	crashTest(t, func(round int) crashDest {
		dir := filepath.Join(root, fmt.Sprintf("round%d", round), "user")
		wg.Add(2)
		for range 2 {
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					rows, cp, found, err := readParquet(dir)
					if err != nil {
						t.Errorf("reader: %v", err)
						return
					}
					reads.Add(1)
					if len(rows) > 0 {
						nonEmpty.Add(1)
					}
					if err := prefixError(rows, cp, found, data, 20); err != nil {
						t.Errorf("reader: %v", err)
						return
					}
					time.Sleep(time.Millisecond)
				}
			}()
		}
		return crashDest{
			args: []string{"-parquet", dir},
			state: func(t *testing.T) ([]mockapi.User, paginate.Checkpoint, bool) {
				rows, cp, found, err := readParquet(dir)
				if err != nil {
					t.Fatal(err)
				}
				return rows, cp, found
			},
		}
	})
}

// readParquet reads the table in dir and its checkpoint, from one
// manifest, as mock API records sorted by id.
func readParquet(dir string) ([]mockapi.User, paginate.Checkpoint, bool, error) {
	man, rows, err := parquet.ReadTable(context.Background(), parquet.Dir(dir))
	if err != nil {
		return nil, paginate.Checkpoint{}, false, err
	}
	var users []mockapi.User
	seen := make(map[string]bool)
	for _, r := range rows {
		u := mockapi.User{
			ID: r["id"].(string), Name: r["name"].(string), Email: r["email"].(string), Address: r["address"].(string),
			Company: r["company"].(string), Job: r["job"].(string),
			UpdatedAt: r["updatedAt"].(time.Time), CreatedAt: r["createdAt"].(time.Time),
		}
		if seen[u.ID] {
			return nil, paginate.Checkpoint{}, false, fmt.Errorf("key %s twice in the current table", u.ID)
		}
		seen[u.ID] = true
		users = append(users, u)
	}
	cp, found := man.Checkpoints["user"]
	return exampletest.ByID(users), cp, found, nil
}

// prefixError is checkPrefix for a reader, which may not stop the test:
// the rows are those of the pages before the checkpoint, or all of them
// once the sync completed.
func prefixError(rows []mockapi.User, cp paginate.Checkpoint, found bool, data []mockapi.User, perPage int) error {
	var want []mockapi.User
	switch {
	case !found:
	case cp.Position.IsStart():
		want = data
	default:
		want = data[:min(int(cp.Position.Page-1)*perPage, len(data))]
	}
	if diff := cmp.Diff(exampletest.ByID(want), rows, cmpopts.EquateEmpty()); diff != "" {
		return fmt.Errorf("checkpoint %+v does not match the rows beside it (-want +got):\n%s", cp, diff)
	}
	return nil
}

// TestCrashParquetGrowing kills the flagship syncing into Parquet files
// while the API gains records (two every 50 ms, at the end of the order,
// as a live API's new records arrive), with readers reading all the while.
// After every kill, and in every read, the table is exactly the records of
// the pages before the checkpoint beside it (in an incremental sync, with
// every record older than its window); each sync ends with every record up
// to its high-water mark, and a last sync on a quiet API with all of them.
func TestCrashParquetGrowing(t *testing.T) {
	bin := flagship(t)
	const perPage, kills, minKills = 20, 24, 20
	api := exampletest.Serve(t, mockapi.Config{Records: 1500, Seed: 29, Latency: 5 * time.Millisecond, LatencyJitter: 15 * time.Millisecond})
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 4))
	root := t.TempDir()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var dirMu sync.Mutex
	dir := ""
	current := func() string { dirMu.Lock(); defer dirMu.Unlock(); return dir }
	var reads atomic.Int64
	wg.Add(3)
	go func() { // the API gains records
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				api.Insert(2)
			}
		}
	}()
	for range 2 { // readers
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				d := current()
				if d == "" {
					continue
				}
				data := api.Records() // before the read: the table can only be behind it
				rows, cp, found, err := readParquet(d)
				if err == nil {
					err = growingError(rows, cp, found, data, perPage)
				}
				if err != nil {
					t.Errorf("reader: %v", err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	killed, mid := 0, 0
	start := time.Now()
	soft, hard := start.Add(40*time.Second), start.Add(120*time.Second)
	enough := func() bool { return killed >= kills || killed >= minKills && time.Now().After(soft) }
	run := func(kill bool) bool {
		cmd := exec.Command(bin, "-url", api.URL+mockapi.PathPageNumber, "-per-page", strconv.Itoa(perPage), "-show", "0", "-parquet", current())
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if kill {
			k := func() { cmd.Process.Kill() }
			if n := rng.IntN(24); n < 3 {
				time.AfterFunc(time.Duration(rng.Int64N(int64(30*time.Millisecond))), k)
			} else {
				after := time.Duration(rng.Int64N(int64(10 * time.Millisecond)))
				api.After(n, func() { time.AfterFunc(after, k) })
			}
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		done := !errors.As(err, &exit) || exit.ExitCode() != -1
		if done && err != nil {
			t.Fatalf("run failed: %v\n%s", err, out)
		}
		return done
	}
	check := func() (complete bool, page int64) {
		t.Helper()
		rows, cp, found, err := readParquet(current())
		if err == nil {
			err = growingError(rows, cp, found, api.Records(), perPage)
		}
		if err != nil {
			t.Fatal(err)
		}
		return found && cp.Position.IsStart(), cp.Position.Page
	}
	for round := 1; !enough(); round++ {
		dirMu.Lock()
		dir = filepath.Join(root, fmt.Sprintf("round%d", round), "user")
		dirMu.Unlock()
		for {
			if time.Now().After(hard) {
				t.Fatalf("out of time after %d kills", killed)
			}
			done := run(!enough())
			if !done {
				killed++
			}
			complete, page := check()
			if done && !complete {
				t.Fatal("a run exited 0 without completing its sync")
			}
			if complete {
				break
			}
			if page > 1 {
				mid++
			}
		}
	}
	// An incremental sync of what arrived meanwhile, then one on a quiet
	// API: the table is the API's records.
	run(false)
	close(stop)
	wg.Wait()
	stop = make(chan struct{})
	if complete, _ := check(); !complete {
		t.Fatal("the incremental sync did not complete")
	}
	run(false)
	rows, _, _, err := readParquet(current())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(exampletest.ByID(api.Records()), rows); diff != "" {
		t.Errorf("final table (-API +table):\n%s", diff)
	}
	t.Logf("%d kills in %v, %d mid-sync; %d reads", killed, time.Since(start).Round(time.Millisecond), mid, reads.Load())
	if mid < killed/2 {
		t.Errorf("only %d of %d kills hit a sync in progress; the timing needs tuning", mid, killed)
	}
}

// growingError checks rows against the checkpoint beside them, given the
// API's records, which have only gained records at the end of the order
// since the pages were served: a completed sync holds every record up to
// its high-water mark; a sync in progress every record older than its
// window and the window's listing up to the checkpoint.
func growingError(rows []mockapi.User, cp paginate.Checkpoint, found bool, data []mockapi.User, perPage int) error {
	var want []mockapi.User
	switch {
	case !found:
	case cp.Position.IsStart():
		hw, err := time.Parse(sinceLayout, cp.Position.Since)
		if err != nil {
			return fmt.Errorf("completed sync's checkpoint %+v: %v", cp, err)
		}
		for _, u := range data {
			if !u.UpdatedAt.After(hw) {
				want = append(want, u)
			}
		}
	default:
		var since time.Time
		if cp.Position.Since != "" {
			var err error
			if since, err = time.Parse(sinceLayout, cp.Position.Since); err != nil {
				return fmt.Errorf("checkpoint %+v: %v", cp, err)
			}
		}
		var listing []mockapi.User
		for _, u := range data {
			if u.UpdatedAt.Before(since) {
				want = append(want, u)
			} else {
				listing = append(listing, u)
			}
		}
		slices.SortFunc(listing, func(a, b mockapi.User) int {
			return stdcmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), strings.Compare(a.ID, b.ID))
		})
		seen := make(map[string]bool)
		for _, u := range want {
			seen[u.ID] = true
		}
		for _, u := range listing[:min(int(cp.Position.Page-1)*perPage, len(listing))] {
			if !seen[u.ID] {
				want = append(want, u)
			}
		}
	}
	if diff := cmp.Diff(exampletest.ByID(want), rows, cmpopts.EquateEmpty()); diff != "" {
		return fmt.Errorf("checkpoint %+v does not match the rows beside it (-want +got):\n%s", cp, diff)
	}
	return nil
}
