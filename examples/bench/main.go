// Command bench measures pagekit against the numbers its issues promise and
// prints one table, every row measured in the same run against the mock API
// served in-process on 127.0.0.1:
//
//	e2e       the flagship (examples/pagenumber, built and run as a user
//	          runs it) into SQLite against a hand-written loop into SQLite,
//	          the SDK example's loop shape and the fetch-and-decode
//	          floor, each a process of its own, in alternating rounds
//	overhead  the runner (page number, sequential, counting sink) against a
//	          hand-written net/http + encoding/json loop over the same endpoint
//	latency   20 ms a request: the runner sequential against 4, 8 and 16
//	          pages at once, and the flagship at 16 against the ideal
//	memory    the runner's peak heap syncing N and 10N records into JSON
//	          Lines on /dev/null, and the flagship's peak RSS syncing N and
//	          10N records into SQLite, each in a child process
//	sinks     the SQLite sink, the Parquet sink, and the PostgreSQL sink
//	          when PAGEKIT_POSTGRES_DSN is set, against the bare driver (or
//	          parquet-go's writer) doing the same work, page by page in turn
//	          (the DuckDB sink's rows: sink/duckdb/examples/bench, which
//	          links DuckDB and so lives in that module)
//	connector a fan-out of 40 partitions of 25 pages at 20 ms within a budget
//	          of 16; 20 streams on one rate-limited host, counted at the
//	          server; peak heap with 100,000 parent records against 1,000;
//	          a sync of users and their orders into SQLite with the
//	          protection of the parent list against shifts, and without
//	workers   a sync of 60 partitions of 20 pages at 20 ms as River jobs on
//	          three worker processes (examples/workers) against one, 4
//	          requests in flight each, sharing PostgreSQL (when
//	          PAGEKIT_POSTGRES_DSN is set); a one-page partition through
//	          the queue against a direct run, on SQLite and PostgreSQL
//	protocols an Airbyte read (examples/platforms) of the users into
//	          /dev/null against the fetch-and-decode floor and the
//	          flagship into SQLite, each a process, in alternating rounds
//	spec      pagekit sync (cmd/pagekit) of the flagship's spec into SQLite
//	          against the flagship, each a process, in alternating rounds
//
// Usage:
//
//	go run ./examples/bench            # the full run recorded in docs/performance.md
//	go run ./examples/bench -quick     # a CI-sized run: same code, small sizes
//	go run ./examples/bench -rows e2e,latency
//
// Run it from the repository: it builds the flagship with the go command.
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
	records   int           // e2e, overhead: records synced
	perPage   int           // overhead: page size
	rounds    int           // overhead: alternating rounds, median taken
	e2eRounds int           // e2e: alternating rounds, median taken
	latency   time.Duration // latency: per request
	pages     int           // latency: pages synced
	memSmall  int           // memory: records in the small run
	sinkPages int           // sinks: pages written per measurement
	sinkReps  int           // sinks: measurements, median taken
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
	if len(os.Args) > 2 && os.Args[1] == loopFlag {
		runLoop(os.Args[2:])
		return
	}
	cfg := config{}
	rows := flag.String("rows", "e2e,overhead,latency,memory,sinks,connector,workers,protocols,spec", "comma-separated rows to measure")
	flag.BoolVar(&cfg.quick, "quick", false, "a CI-sized run: small sizes, same code paths")
	flag.IntVar(&cfg.records, "records", 100_000, "e2e, overhead: records to sync")
	flag.IntVar(&cfg.e2eRounds, "e2e-rounds", 3, "e2e: rounds of each contender; the medians are compared")
	flag.IntVar(&cfg.perPage, "per-page", 100, "overhead: records a page")
	flag.IntVar(&cfg.rounds, "rounds", 5, "overhead: rounds of each loop; the median is compared")
	flag.DurationVar(&cfg.latency, "latency", 20*time.Millisecond, "latency: mock latency per request")
	flag.IntVar(&cfg.pages, "pages", 500, "latency: pages to sync")
	flag.IntVar(&cfg.memSmall, "mem-records", 100_000, "memory: records in the small run; the large run has 10x")
	flag.IntVar(&cfg.sinkPages, "sink-pages", 100, "sinks: pages written per measurement")
	flag.IntVar(&cfg.sinkReps, "sink-reps", 3, "sinks: measurements; the median ratio is reported")
	flag.Parse()
	if cfg.quick {
		cfg.records, cfg.rounds, cfg.e2eRounds, cfg.pages, cfg.memSmall, cfg.sinkPages, cfg.sinkReps = 5_000, 2, 1, 40, 5_000, 4, 1
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
	out, err := measureRows(ctx, cfg)
	removeBuilt()
	if err != nil {
		log.Fatal(err)
	}
	printTable(os.Stdout, out, cfg.quick)
}

// measureRows measures the rows cfg asks for.
func measureRows(ctx context.Context, cfg config) ([]row, error) {
	var out []row
	measure := []struct {
		name string
		run  func(context.Context, config) ([]row, error)
	}{
		{"e2e", endToEnd},
		{"overhead", overhead},
		{"latency", latencyBound},
		{"latency", flagshipLatency},
		{"memory", memory},
		{"sinks", sinks},
		{"connector", connectorRows},
		{"workers", workersRows},
		{"protocols", protocolRows},
		{"spec", specRows},
	}
	for _, m := range measure {
		if !cfg.rows[m.name] {
			continue
		}
		rs, err := m.run(ctx, cfg)
		if err != nil {
			return out, fmt.Errorf("bench %s: %w", m.name, err)
		}
		out = append(out, rs...)
	}
	return out, nil
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
