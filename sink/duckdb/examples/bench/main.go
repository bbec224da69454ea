// Command bench measures the DuckDB sink, in the rows of pagekit's
// benchmark command (examples/bench in the pagekit module), which stays
// pure Go and so cannot link DuckDB:
//
//	sinks     the DuckDB sink's Commit against the bare driver doing the same
//	          work (the Appender into one INSERT OR REPLACE a page, and the
//	          checkpoint row, in one transaction), page by page in turn; and
//	          the upsert the sink does not use (multi-row INSERT ... ON
//	          CONFLICT statements with bound parameters) against the one
//	          it uses (the Appender and one INSERT ... ON CONFLICT a run)
//	e2e       the flagship with -duckdb FILE against the same binary with
//	          -db FILE (SQLite), against one mock API on 127.0.0.1, in
//	          alternating rounds
//
// Usage, from sink/duckdb:
//
//	go run ./examples/bench            # the run recorded in docs/performance.md
//	go run ./examples/bench -quick     # small sizes, same code
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

type config struct {
	quick     bool
	rows      map[string]bool
	sinkPages int // sinks: pages of 500 rows
	sinkReps  int // sinks: measurements, median taken
	records   int // e2e: records synced
	rounds    int // e2e: rounds of each, medians compared
}

type row struct {
	name, measured, target string
	ok                     bool
	detail                 string
}

func main() {
	log.SetFlags(0)
	cfg := config{}
	rows := flag.String("rows", "sinks,e2e", "comma-separated rows to measure")
	flag.BoolVar(&cfg.quick, "quick", false, "small sizes, same code paths")
	flag.IntVar(&cfg.sinkPages, "sink-pages", 100, "sinks: pages of 500 rows written per measurement")
	flag.IntVar(&cfg.sinkReps, "sink-reps", 3, "sinks: measurements; the median ratio is reported")
	flag.IntVar(&cfg.records, "records", 50_000, "e2e: records to sync")
	flag.IntVar(&cfg.rounds, "rounds", 3, "e2e: rounds of each destination; the medians are compared")
	flag.Parse()
	if cfg.quick {
		cfg.sinkPages, cfg.sinkReps, cfg.records, cfg.rounds = 4, 1, 2_000, 1
	}
	cfg.rows = make(map[string]bool)
	for _, r := range strings.Split(*rows, ",") {
		cfg.rows[strings.TrimSpace(r)] = true
	}
	ctx := context.Background()
	fmt.Printf("pagekit DuckDB bench: %s, %s/%s, %d CPUs, %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
	var out []row
	for _, m := range []struct {
		name string
		f    func(context.Context, config) ([]row, error)
	}{{"sinks", sinks}, {"e2e", endToEnd}} {
		if !cfg.rows[m.name] {
			continue
		}
		rs, err := m.f(ctx, cfg)
		if err != nil {
			log.Fatalf("bench %s: %v", m.name, err)
		}
		out = append(out, rs...)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nrow\tmeasured\ttarget\tmet\tdetail")
	for _, r := range out {
		met := "yes"
		switch {
		case r.target == "":
			met = "-"
		case cfg.quick:
			met = "(quick)"
		case !r.ok:
			met = "NO"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.name, r.measured, r.target, met, r.detail)
	}
	tw.Flush()
}
