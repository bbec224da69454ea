// Command bench measures pagekit against the numbers its issues promise and
// prints one table, every row measured in the same run against the mock API
// served in-process on 127.0.0.1:
//
//	overhead  the runner (page number, sequential, counting sink) against a
//	          hand-written net/http + encoding/json loop over the same endpoint
//	latency   20 ms a request: sequential against 4, 8 and 16 pages at once
//	memory    peak heap syncing N and 10N records into JSON Lines on /dev/null,
//	          each in a child process
//	sinks     rows/s into SQLite, and PostgreSQL when PAGEKIT_POSTGRES_DSN is set
//	connector a fan-out of 40 partitions of 25 pages at 20 ms within a budget
//	          of 16; 20 streams on one rate-limited host, counted at the
//	          server; peak heap with 100,000 parent records against 1,000
//
// Usage:
//
//	go run ./examples/bench            # the full run recorded in docs/performance.md
//	go run ./examples/bench -quick     # a CI-sized run: same code, small sizes
//	go run ./examples/bench -rows overhead,latency
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// config is what the flags choose.
type config struct {
	quick     bool
	rows      map[string]bool
	records   int           // overhead: records synced
	perPage   int           // overhead: page size
	rounds    int           // overhead: alternating rounds, median taken
	latency   time.Duration // latency: per request
	pages     int           // latency: pages synced
	memSmall  int           // memory: records in the small run
	sinkPages int           // sinks: pages written per measurement
}

// row is one line of the result table.
type row struct {
	name, measured, target string
	ok                     bool
	detail                 string
}

func main() {
	log.SetFlags(0)
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		runChild(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == connectorChildFlag {
		runConnectorChild(os.Args[2:])
		return
	}
	cfg := config{}
	rows := flag.String("rows", "overhead,latency,memory,sinks,connector", "comma-separated rows to measure")
	flag.BoolVar(&cfg.quick, "quick", false, "a CI-sized run: small sizes, same code paths")
	flag.IntVar(&cfg.records, "records", 100_000, "overhead: records to sync")
	flag.IntVar(&cfg.perPage, "per-page", 100, "overhead: records a page")
	flag.IntVar(&cfg.rounds, "rounds", 5, "overhead: rounds of each loop; the median is compared")
	flag.DurationVar(&cfg.latency, "latency", 20*time.Millisecond, "latency: mock latency per request")
	flag.IntVar(&cfg.pages, "pages", 500, "latency: pages to sync")
	flag.IntVar(&cfg.memSmall, "mem-records", 100_000, "memory: records in the small run; the large run has 10x")
	flag.IntVar(&cfg.sinkPages, "sink-pages", 40, "sinks: pages written per page size")
	flag.Parse()
	if cfg.quick {
		cfg.records, cfg.rounds, cfg.pages, cfg.memSmall, cfg.sinkPages = 5_000, 2, 40, 5_000, 4
	}
	cfg.rows = make(map[string]bool)
	for _, r := range strings.Split(*rows, ",") {
		cfg.rows[strings.TrimSpace(r)] = true
	}

	ctx := context.Background()
	fmt.Printf("pagekit bench: %s, %s/%s, %d CPUs, %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	if cfg.quick {
		fmt.Println("quick mode: sizes are too small for the figures to mean anything; the targets are not checked")
	}
	var out []row
	measure := []struct {
		name string
		run  func(context.Context, config) ([]row, error)
	}{
		{"overhead", overhead},
		{"latency", latencyBound},
		{"memory", memory},
		{"sinks", sinks},
		{"connector", connectorRows},
	}
	for _, m := range measure {
		if !cfg.rows[m.name] {
			continue
		}
		rs, err := m.run(ctx, cfg)
		if err != nil {
			log.Fatalf("bench %s: %v", m.name, err)
		}
		out = append(out, rs...)
	}
	printTable(os.Stdout, out, cfg.quick)
}

func printTable(w io.Writer, rows []row, quick bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nrow\tmeasured\ttarget\tmet\tdetail")
	for _, r := range rows {
		met := "yes"
		switch {
		case r.target == "":
			met = "-"
		case quick:
			met = "(quick)"
		case !r.ok:
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.name, r.measured, r.target, met, r.detail)
	}
	tw.Flush()
}
