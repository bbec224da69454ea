package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/pagekit/pagekit/mockapi"
)

// endToEnd runs the flagship (this module's examples/pagenumber, built
// once) into DuckDB and into SQLite, the same binary with -duckdb FILE or
// -db FILE, against one mock API on 127.0.0.1, in alternating rounds,
// each a full sync into a new file, and compares the median times.
func endToEnd(ctx context.Context, cfg config) ([]row, error) {
	dir, err := os.MkdirTemp("", "pagekit-duckdb-e2e-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "pagenumber")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/pagenumber").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the flagship (run from sink/duckdb): %v\n%s", err, out)
	}
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: cfg.records, Seed: 9}))
	defer srv.Close()
	url := srv.URL + mockapi.PathPageNumber
	var td, ts []time.Duration
	for r := range cfg.rounds {
		for _, dest := range []string{"-duckdb", "-db"} {
			file := filepath.Join(dir, fmt.Sprintf("r%d%s", r, dest))
			t0 := time.Now()
			out, err := exec.CommandContext(ctx, bin, "-url", url, "-show", "0", dest, file).CombinedOutput()
			if err != nil {
				return nil, fmt.Errorf("flagship %s: %v\n%s", dest, err, out)
			}
			if dest == "-duckdb" {
				td = append(td, time.Since(t0))
			} else {
				ts = append(ts, time.Since(t0))
			}
		}
	}
	slices.Sort(td)
	slices.Sort(ts)
	d, s := td[len(td)/2], ts[len(ts)/2]
	return []row{{
		name:     "e2e: flagship into DuckDB / into SQLite, " + strconv.Itoa(cfg.records) + " records",
		measured: fmt.Sprintf("%.2f", s.Seconds()/d.Seconds()),
		detail: fmt.Sprintf("throughput ratio, medians of %d alternating rounds, the same binary with -duckdb or -db, mock API on 127.0.0.1, 50 a page, concurrency 4: DuckDB %v (%.0f records/s), SQLite %v (%.0f records/s)",
			cfg.rounds, d.Round(time.Millisecond), float64(cfg.records)/d.Seconds(), s.Round(time.Millisecond), float64(cfg.records)/s.Seconds()),
	}}, nil
}
