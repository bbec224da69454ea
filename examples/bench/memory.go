package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/jsonl"
	"github.com/pagekit/pagekit/strategies"
)

// childFlag makes the command a memory-measuring child: a process of its
// own, so that the mock API's dataset in the parent does not count.
const childFlag = "-child-memory"

// memory syncs N and 10N records, each in a child process, and compares
// their peak heaps: a streaming runner needs the same memory for both.
func memory(ctx context.Context, cfg config) ([]row, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	type peak struct{ heap, rss int64 }
	measure := func(records int) (peak, error) {
		srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: records, Seed: 3}))
		defer srv.Close()
		cmd := exec.CommandContext(ctx, exe, childFlag, "-url", srv.URL+mockapi.PathPageNumber, "-records", fmt.Sprint(records))
		cmd.Stderr = os.Stderr
		var out strings.Builder
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			return peak{}, err
		}
		rss := watchHWM(cmd.Process.Pid)
		err := cmd.Wait()
		p := peak{rss: rss()}
		if err != nil {
			return peak{}, fmt.Errorf("child for %d records: %w", records, err)
		}
		if _, err := fmt.Sscanf(strings.TrimSpace(out.String()), "peak_heap=%d", &p.heap); err != nil {
			return peak{}, fmt.Errorf("child for %d records said %q: %w", records, out.String(), err)
		}
		return p, nil
	}
	small, large := cfg.memSmall, 10*cfg.memSmall
	ps, err := measure(small)
	if err != nil {
		return nil, err
	}
	pl, err := measure(large)
	if err != nil {
		return nil, err
	}
	ratio := float64(pl.heap) / float64(ps.heap)
	rows := []row{{
		name:     fmt.Sprintf("memory: runner, peak heap, %d / %d records into JSON Lines on /dev/null", large, small),
		measured: fmt.Sprintf("%.2f", ratio),
		target:   "<= 1.3",
		ok:       ratio <= 1.3,
		detail: fmt.Sprintf("peak heap %.1f MiB vs %.1f MiB; peak RSS %.1f MiB vs %.1f MiB",
			mib(pl.heap), mib(ps.heap), mib(pl.rss), mib(ps.rss)),
	}}
	r, err := flagshipMemory(ctx, small, large)
	if err != nil {
		return nil, err
	}
	return append(rows, r), nil
}

// flagshipMemory syncs small and then large records with the flagship, its
// own options (TrackKeys, Order, HighWater, concurrency 4, SQLite), each
// into a new database, and compares the processes' peak RSS.
func flagshipMemory(ctx context.Context, small, large int) (row, error) {
	bin, err := flagshipBin(ctx)
	if err != nil {
		return row{}, err
	}
	dir, err := os.MkdirTemp("", "pagekit-bench-")
	if err != nil {
		return row{}, err
	}
	defer os.RemoveAll(dir)
	var ps []proc
	for _, records := range []int{small, large} {
		srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: records, Seed: 3}))
		db := filepath.Join(dir, fmt.Sprintf("memory-%d.db", records))
		p, err := runProc(exec.CommandContext(ctx, bin, flagshipArgs(srv.URL+mockapi.PathPageNumber, db, 50)...))
		srv.Close()
		if err != nil {
			return row{}, err
		}
		if n, err := countUsers(db); err != nil || n != records {
			return row{}, fmt.Errorf("flagship: %d rows in the table, want %d (%v)", n, records, err)
		}
		ps = append(ps, p)
	}
	ratio := float64(ps[1].rss) / float64(ps[0].rss)
	return row{
		name:     fmt.Sprintf("memory: flagship, peak RSS, %d / %d records into SQLite", large, small),
		measured: fmt.Sprintf("%.2f", ratio),
		target:   "<= 1.3",
		ok:       ratio <= 1.3,
		detail: fmt.Sprintf("peak RSS %.1f MiB vs %.1f MiB (%v vs %v)", mib(ps[1].rss), mib(ps[0].rss),
			ps[1].wall.Round(time.Millisecond), ps[0].wall.Round(time.Millisecond)),
	}, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// runChild syncs the page-number endpoint at -url into JSON Lines on
// /dev/null with the default options, sampling the live heap, and prints
// the peak.
func runChild(args []string) {
	fs := flag.NewFlagSet("child", flag.ExitOnError)
	url := fs.String("url", "", "page-number endpoint")
	records := fs.Int("records", 0, "records expected")
	_ = fs.Parse(args)

	var peakHeap atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := int64(s[0].Value.Uint64()); v > peakHeap.Load() {
				peakHeap.Store(v)
			}
			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()

	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer devnull.Close()
	sink := jsonl.New[mockapi.User](devnull, jsonl.Config{})
	p := &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: *url, Query: seedQuery()},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}
	res, err := paginate.Run(context.Background(), p, sink, paginate.Options[mockapi.User]{})
	close(stop)
	<-done
	if err != nil {
		log.Fatal(err)
	}
	if res.Items != int64(*records) {
		log.Fatalf("synced %d records, want %d", res.Items, *records)
	}
	runtime.KeepAlive(sink)
	fmt.Printf("peak_heap=%d\n", peakHeap.Load())
}
