package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/pagekit/pagekit/mockapi"
)

// platformsBin builds examples/platforms, the connector served under the
// platform protocols, into dir.
func platformsBin(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "platforms")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/platforms").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build examples/platforms (run the bench from the repository): %v\n%s", err, out)
	}
	return bin, nil
}

// protocolRows measures an Airbyte read of the users stream (page
// number, 50 a page, 4 pages at once) into /dev/null, the records
// written as RECORD messages and a STATE after each page, against the
// fetch-and-decode floor and the flagship into SQLite over the same mock
// API, each a process of its own, in alternating rounds.
func protocolRows(ctx context.Context, cfg config) ([]row, error) {
	const perPage = 50
	dir, err := os.MkdirTemp("", "pagekit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin, err := platformsBin(ctx, dir)
	if err != nil {
		return nil, err
	}
	flagship, err := flagshipBin(ctx)
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

	conf := filepath.Join(dir, "config.json")
	cat := filepath.Join(dir, "catalog.json")
	if err := writeJSON(conf, map[string]any{"url": srv.URL, "page_size": perPage, "concurrency": 4}); err != nil {
		return nil, err
	}
	if err := writeJSON(cat, map[string]any{"streams": []any{map[string]any{
		"stream":    map[string]any{"name": "users", "json_schema": map[string]any{}, "supported_sync_modes": []string{"full_refresh"}},
		"sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}}}); err != nil {
		return nil, err
	}
	read := func() *exec.Cmd {
		return exec.CommandContext(ctx, bin, "airbyte", "read", "--config", conf, "--catalog", cat)
	}
	// Once, not timed: the read writes every record, and a state after
	// the last.
	if err := checkRead(read(), cfg.records); err != nil {
		return nil, err
	}

	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devnull.Close()
	var airbyteT, floorT, flagT []time.Duration
	for round := 0; round < cfg.e2eRounds; round++ {
		cmd := read()
		cmd.Stdout = devnull
		d, err := timed(cmd)
		if err != nil {
			return nil, fmt.Errorf("airbyte read: %w", err)
		}
		airbyteT = append(airbyteT, d)
		db := filepath.Join(dir, fmt.Sprintf("floor-%d.db", round))
		if d, err = timed(exec.CommandContext(ctx, exe, loopFlag, "floor", "-url", url, "-db", db, "-per-page", fmt.Sprint(perPage),
			"-records", fmt.Sprint(cfg.records))); err != nil {
			return nil, fmt.Errorf("floor: %w", err)
		}
		floorT = append(floorT, d)
		db = filepath.Join(dir, fmt.Sprintf("flagship-%d.db", round))
		if d, err = timed(exec.CommandContext(ctx, flagship, flagshipArgs(url, db, perPage)...)); err != nil {
			return nil, fmt.Errorf("flagship: %w", err)
		}
		flagT = append(flagT, d)
	}
	a, f, s := median(airbyteT), median(floorT), median(flagT)
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return []row{{
		name:     fmt.Sprintf("protocols: Airbyte read into /dev/null / fetch-and-decode floor, %d records, %d a page", cfg.records, perPage),
		measured: fmt.Sprintf("%.2f", float64(a)/float64(f)),
		target:   "<= flagship into SQLite",
		ok:       a <= s,
		detail: fmt.Sprintf("medians of %d: read %s (%.0f records/s), floor %s (%.0f records/s), flagship into SQLite %s (%.2f of the floor)",
			cfg.e2eRounds, ms(a), float64(cfg.records)/a.Seconds(), ms(f), float64(cfg.records)/f.Seconds(), ms(s), float64(s)/float64(f)),
	}}, nil
}

// timed runs cmd to its end and returns its wall time.
func timed(cmd *exec.Cmd) (time.Duration, error) {
	var errb bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &errb
	}
	cmd.Stderr = &errb
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, errb.Bytes())
	}
	return time.Since(start), nil
}

// checkRead runs an Airbyte read and checks that it wrote n records and
// ended with a STATE after them.
func checkRead(cmd *exec.Cmd, n int) error {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	records, last := 0, ""
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return fmt.Errorf("airbyte read: %v: %.200s", err, sc.Bytes())
		}
		if m.Type == "RECORD" {
			records++
		}
		if m.Type == "RECORD" || m.Type == "STATE" {
			last = m.Type
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("airbyte read: %v", err)
	}
	if records != n || last != "STATE" {
		return fmt.Errorf("airbyte read: %d records, want %d; the last of records and states: %s", records, n, last)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
