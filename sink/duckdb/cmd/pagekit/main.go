// Command pagekit is the pagekit command (github.com/pagekit/pagekit/cmd/pagekit)
// with one more destination: a DuckDB file, duckdb:FILE. DuckDB needs cgo
// and a C toolchain, which is why this build lives in the DuckDB module
// and the pure-Go command does not have it. See docs/cli.md.
//
//	pagekit sync api.yaml -dest duckdb:api.duckdb
//
// From a checkout of pagekit:
//
//	cd sink/duckdb && go install ./cmd/pagekit
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pagekit/pagekit/cli"
	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/dynamic"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/spec"
)

func main() {
	register()
	// Ctrl-C or SIGTERM cancels ctx: every stream stops after the pages
	// being committed, and the next run resumes from there.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// register adds duckdb:FILE to the command's destinations.
func register() {
	cli.Register("duckdb", openDuckDB)
}

// openDuckDB opens the DuckDB file of -dest duckdb:FILE, whose tables
// are DuckDB sinks.
func openDuckDB(_ context.Context, file string) (cli.Dest, error) {
	db, err := duckdb.Open(file)
	if err != nil {
		return nil, err
	}
	return cli.SQLDest(db, func(ctx context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
		return duckdb.New(ctx, db, m, duckdb.Config[spec.Record]{})
	}), nil
}
