package main

import (
	"context"
	"fmt"
	"path/filepath"
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
