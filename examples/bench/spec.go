package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/pagekit/pagekit/mockapi"
)

// specRows measures a spec-driven sync: the pagekit command syncing the
// flagship's spec (spec/testdata/flagship.yaml, the same requests, pages of
// 50, records without a Go struct into a table inferred from them) into
// SQLite, against the flagship itself, each a process over the same mock
// API, in alternating rounds, each round into new files.
func specRows(ctx context.Context, cfg config) ([]row, error) {
	const perPage = 50
	dir, err := os.MkdirTemp("", "pagekit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pagekit := filepath.Join(dir, "pagekit")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", pagekit, "./cmd/pagekit").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build cmd/pagekit (run the bench from the repository): %v\n%s", err, out)
	}
	flagship, err := flagshipBin(ctx)
	if err != nil {
		return nil, err
	}
	specFile := "spec/testdata/flagship.yaml"
	if _, err := os.Stat(specFile); err != nil {
		return nil, fmt.Errorf("the flagship's spec (run the bench from the repository): %w", err)
	}
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: cfg.records, Seed: 1}))
	defer srv.Close()
	url := srv.URL + mockapi.PathPageNumber

	var specT, flagT []time.Duration
	for round := 0; round < cfg.e2eRounds; round++ {
		db := filepath.Join(dir, fmt.Sprintf("spec-%d.db", round))
		cmd := exec.CommandContext(ctx, pagekit, "sync", specFile, "-dest", "sqlite:"+db)
		cmd.Env = append(os.Environ(), "API_URL="+url)
		d, err := timed(cmd)
		if err != nil {
			return nil, fmt.Errorf("pagekit sync: %w", err)
		}
		if n, err := countUsers(db); err != nil || n != cfg.records {
			return nil, fmt.Errorf("pagekit sync wrote %d rows of %d: %v", n, cfg.records, err)
		}
		specT = append(specT, d)
		db = filepath.Join(dir, fmt.Sprintf("flagship-%d.db", round))
		if d, err = timed(exec.CommandContext(ctx, flagship, flagshipArgs(url, db, perPage)...)); err != nil {
			return nil, fmt.Errorf("flagship: %w", err)
		}
		flagT = append(flagT, d)
	}
	s, f := median(specT), median(flagT)
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	ratio := float64(s) / float64(f)
	return []row{{
		name:     fmt.Sprintf("spec: pagekit sync of the flagship's spec / the flagship, %d records, %d a page, into SQLite", cfg.records, perPage),
		measured: fmt.Sprintf("%.2f", ratio),
		target:   "<= 1.20",
		ok:       ratio <= 1.2,
		detail: fmt.Sprintf("medians of %d: pagekit sync %s (%.0f records/s), flagship %s (%.0f records/s)",
			cfg.e2eRounds, ms(s), float64(cfg.records)/s.Seconds(), ms(f), float64(cfg.records)/f.Seconds()),
	}}, nil
}
