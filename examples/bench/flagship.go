package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// built is the flagship binary, built once a run into a directory that
// main removes.
var built struct {
	once     sync.Once
	dir, bin string
	err      error
}

// flagshipBin builds the flagship (examples/pagenumber), as a user runs
// it, and returns its path.
func flagshipBin(ctx context.Context) (string, error) {
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "pagekit-bench-bin-"); built.err != nil {
			return
		}
		bin := filepath.Join(built.dir, "pagenumber")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/pagenumber")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build the flagship (run the bench from the repository): %v\n%s", err, out)
			return
		}
		built.bin = bin
	})
	return built.bin, built.err
}

// removeBuilt removes the flagship binary, if one was built.
func removeBuilt() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// proc is how one child process went.
type proc struct {
	wall time.Duration
	rss  int64  // peak resident set, bytes
	out  []byte // stdout and stderr
}

// runProc runs cmd to its end and measures it. The peak RSS is the
// child's own high-water mark, read from /proc while it runs: the
// rusage of a child started with vfork also counts the parent's memory
// at the fork.
func runProc(cmd *exec.Cmd) (proc, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return proc{}, err
	}
	peak := watchHWM(cmd.Process.Pid)
	err := cmd.Wait()
	p := proc{wall: time.Since(start), rss: peak(), out: out.Bytes()}
	if err != nil {
		return p, fmt.Errorf("%s: %v\n%s", filepath.Base(cmd.Path), err, out.Bytes())
	}
	return p, nil
}

// watchHWM samples the peak RSS of the process pid every 2 ms until the
// function it returns is called, after the process was waited for; that
// returns the peak in bytes.
func watchHWM(pid int) func() int64 {
	var hwm atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		status := fmt.Sprintf("/proc/%d/status", pid)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			if kb := vmHWM(status); kb > hwm.Load() {
				hwm.Store(kb)
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return hwm.Load() << 10
	}
}

// vmHWM returns the VmHWM line of a /proc status file, in KiB, or 0.
func vmHWM(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// flagshipArgs are the flagship's flags to sync url into db, as a user
// would pass them, with the example's own defaults for the rest
// (concurrency 4).
func flagshipArgs(url, db string, perPage int) []string {
	return []string{"-url", url, "-db", db, "-per-page", fmt.Sprint(perPage), "-show", "0"}
}

// countUsers returns the rows of the USER table in the SQLite file db.
func countUsers(db string) (int, error) {
	d, err := sqlite.Open(db)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	var n int
	err = d.QueryRow(`SELECT count(*) FROM "user"`).Scan(&n)
	return n, err
}

// endToEnd syncs the same records with the flagship, a hand-written loop
// into SQLite, the SDK example's loop shape and the fetch-and-decode floor, each a
// process of its own over the same mock API, in alternating rounds, and
// compares their median wall times.
func endToEnd(ctx context.Context, cfg config) ([]row, error) {
	const perPage = 50
	dir, err := os.MkdirTemp("", "pagekit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := flagshipBin(ctx)
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: cfg.records, Seed: 1}))
	defer srv.Close()
	url := srv.URL + mockapi.PathPageNumber

	loop := func(name string) func(db string) *exec.Cmd {
		return func(db string) *exec.Cmd {
			return exec.CommandContext(ctx, exe, loopFlag, name, "-url", url, "-db", db, "-per-page", fmt.Sprint(perPage),
				"-records", fmt.Sprint(cfg.records))
		}
	}
	type contender struct {
		name  string
		cmd   func(db string) *exec.Cmd
		table bool // leaves a table to check
		times []time.Duration
	}
	contenders := []*contender{
		{name: "flagship", cmd: func(db string) *exec.Cmd {
			return exec.CommandContext(ctx, bin, flagshipArgs(url, db, perPage)...)
		}, table: true},
		{name: "hand", cmd: loop("hand"), table: true},
		{name: "seed", cmd: loop("seed"), table: true},
		{name: "floor", cmd: loop("floor")},
	}
	py, err := pythonSeed(ctx, dir)
	if err != nil {
		return nil, err
	}
	if py != "" {
		contenders = append(contenders, &contender{name: "python", table: true, cmd: func(db string) *exec.Cmd {
			return exec.CommandContext(ctx, "python3", py, url, db, fmt.Sprint(perPage))
		}})
	}
	for round := 0; round < cfg.e2eRounds; round++ {
		for _, c := range contenders {
			db := filepath.Join(dir, fmt.Sprintf("%s-%d.db", c.name, round))
			p, err := runProc(c.cmd(db))
			if err != nil {
				return nil, err
			}
			if c.table {
				if n, err := countUsers(db); err != nil || n != cfg.records {
					return nil, fmt.Errorf("%s: %d rows in the table, want %d (%v)", c.name, n, cfg.records, err)
				}
			}
			c.times = append(c.times, p.wall)
			for _, f := range []string{db, db + "-wal", db + "-shm"} {
				os.Remove(f)
			}
		}
	}
	flag, hand, seed, floor := median(contenders[0].times), median(contenders[1].times), median(contenders[2].times), median(contenders[3].times)
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	what := fmt.Sprintf("%d records, %d a page", cfg.records, perPage)
	detail := fmt.Sprintf("medians of %d: flagship %s, hand loop into SQLite %s, SDK example's loop shape in Go %s, fetch+decode floor %s",
		cfg.e2eRounds, ms(flag), ms(hand), ms(seed), ms(floor))
	pyRow := row{name: "end to end: SDK example's loop in Python / flagship, " + what, measured: "skipped",
		detail: "needs python3 with requests"}
	if py != "" {
		pyt := median(contenders[4].times)
		pyRow.measured = fmt.Sprintf("%.1fx faster", float64(pyt)/float64(flag))
		pyRow.target, pyRow.ok = ">= 5x", float64(pyt) >= 5*float64(flag)
		pyRow.detail = fmt.Sprintf("median of %d: %s (requests + sqlite3, the flagship's pragmas)", cfg.e2eRounds, ms(pyt))
	}
	return []row{
		{
			name:     "end to end: flagship / fetch-and-decode floor, " + what,
			measured: fmt.Sprintf("%.2f", float64(flag)/float64(floor)),
			target:   "<= 2.0",
			ok:       float64(flag) <= 2*float64(floor),
			detail:   detail,
		},
		{
			name:     "end to end: SDK example's loop shape in Go / flagship, " + what,
			measured: fmt.Sprintf("%.1fx faster", float64(seed)/float64(flag)),
			target:   ">= 5x",
			ok:       float64(seed) >= 5*float64(flag),
		},
		pyRow,
		{
			name:     "end to end: hand loop into SQLite / flagship, " + what,
			measured: fmt.Sprintf("%.1fx faster", float64(hand)/float64(flag)),
		},
	}, nil
}

// flagshipLatency runs the flagship against an API that takes 20 ms a
// request, at concurrency 16, and compares it with the ideal.
func flagshipLatency(ctx context.Context, cfg config) ([]row, error) {
	const perPage, conc = 50, 16
	dir, err := os.MkdirTemp("", "pagekit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := flagshipBin(ctx)
	if err != nil {
		return nil, err
	}
	records := cfg.pages * perPage
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: records, Seed: 2, Latency: cfg.latency}))
	defer srv.Close()
	var times, runs []time.Duration
	for round := 0; round < 3; round++ {
		db := filepath.Join(dir, fmt.Sprintf("latency-%d.db", round))
		args := append(flagshipArgs(srv.URL+mockapi.PathPageNumber, db, perPage), "-concurrency", fmt.Sprint(conc))
		p, err := runProc(exec.CommandContext(ctx, bin, args...))
		if err != nil {
			return nil, err
		}
		if n, err := countUsers(db); err != nil || n != records {
			return nil, fmt.Errorf("flagship: %d rows in the table, want %d (%v)", n, records, err)
		}
		times = append(times, p.wall)
		runs = append(runs, summaryDuration(p.out))
	}
	d, run := median(times), median(runs)
	ideal := cfg.latency + time.Duration(cfg.pages-1)*cfg.latency/conc
	frac := float64(ideal) / float64(d)
	return []row{{
		name:     fmt.Sprintf("latency: flagship, concurrency %d, %d pages of %d at %v", conc, cfg.pages, perPage, cfg.latency),
		measured: fmt.Sprintf("%.0f%% of ideal", 100*frac),
		target:   ">= 75% of ideal",
		ok:       frac >= 0.75,
		detail: fmt.Sprintf("median of 3: %v from process start to exit (the run itself: %v, %.0f%%); ideal %v",
			d.Round(time.Millisecond), run.Round(time.Millisecond), 100*float64(ideal)/float64(run), ideal.Round(time.Millisecond)),
	}}, nil
}

// summaryDuration returns the duration the flagship's summary reports:
// the run itself, without starting the process and opening the database.
func summaryDuration(out []byte) time.Duration {
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "duration"); ok {
			d, _ := time.ParseDuration(strings.TrimSpace(v))
			return d
		}
	}
	return 0
}

// pythonSeed writes the SDK example's loop in Python into dir and returns its
// path, or "" when python3 cannot import requests.
func pythonSeed(ctx context.Context, dir string) (string, error) {
	if err := exec.CommandContext(ctx, "python3", "-c", "import requests, sqlite3").Run(); err != nil {
		return "", nil
	}
	path := filepath.Join(dir, "seed.py")
	return path, os.WriteFile(path, []byte(seedPy), 0o644)
}
