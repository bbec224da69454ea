// Command pagekit syncs REST APIs described in a spec file, with no Go
// code: pagekit detect URL > api.yaml writes a spec from one URL, and
// pagekit sync api.yaml syncs it into SQLite, PostgreSQL, JSON Lines or
// Parquet. See docs/cli.md.
//
//	go install github.com/pagekit/pagekit/cmd/pagekit@latest
//
// This build is pure Go (CGO_ENABLED=0 builds it); the DuckDB
// destination needs cgo and lives in its own module, whose pagekit adds
// duckdb:FILE. From a checkout of pagekit:
//
//	cd sink/duckdb && go install ./cmd/pagekit
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pagekit/pagekit/cli"
)

func main() {
	// Ctrl-C or SIGTERM cancels ctx: every stream stops after the pages
	// being committed, and the next run resumes from there.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
