// Package cli is the pagekit command as a library: cmd/pagekit is its
// main, and a build with more destinations adds them with [Register]
// before it calls [Main], as the DuckDB module's pagekit (a cgo build,
// sink/duckdb/cmd/pagekit) adds duckdb:FILE.
//
//	pagekit detect URL [-H 'Header: value']... [-X METHOD] [-d BODY]
//	pagekit sync SPEC [-dest DEST] [-streams a,b] [-restart] [-reset] [-limit N] [-v]
//	pagekit check SPEC
//	pagekit discover SPEC
//	pagekit schema
//	pagekit serve airbyte|singer|fivetran SPEC [protocol arguments]
//	pagekit work SPEC -postgres DSN [-every 1h]
//
// docs/cli.md walks through them.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usage is the command's help.
const usage = `pagekit syncs REST APIs described in a spec file, with no Go code.

usage:
  pagekit detect URL [-H 'Header: value']... [-X METHOD] [-d BODY]
        infer the spec of the API at URL, verified on its second page
  pagekit sync SPEC [-dest DEST] [-streams a,b] [-restart] [-reset] [-limit N] [-v]
        sync the spec's streams into DEST: sqlite:FILE (the default: SPEC's name.db),
        postgres://..., jsonl:DIR, parquet:DIR, duckdb:FILE (the DuckDB build)
  pagekit check SPEC      check the spec, then fetch one page of each stream
  pagekit discover SPEC   list the streams, their tables and columns
  pagekit schema          print the spec's JSON Schema, for editors
  pagekit serve airbyte|singer|fivetran SPEC [ARGS]
        run the spec as an Airbyte source, a Singer tap or a Fivetran connector
  pagekit work SPEC -postgres DSN [-every 1h] [-enqueue]
        sync the spec as River jobs, on as many workers as run this command

Run 'pagekit COMMAND -h' for a command's flags; docs/cli.md walks through them.
`

// Main runs the pagekit command with args (without the program's name)
// and returns its exit status: 0 when all went well, 2 for a mistake in
// the command line, and otherwise as console.ExitCode says for a sync, or
// 1.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "detect":
		return detectCmd(ctx, rest, stdout, stderr)
	case "sync":
		return syncCmd(ctx, rest, stdout, stderr)
	case "check":
		return checkCmd(ctx, rest, stdout, stderr, false)
	case "discover":
		return checkCmd(ctx, rest, stdout, stderr, true)
	case "schema":
		return schemaCmd(rest, stdout, stderr)
	case "serve":
		return serveCmd(ctx, rest, stdout, stderr)
	case "work":
		return workCmd(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "pagekit: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// parse parses the flags of fs anywhere among args, as
// "pagekit sync api.yaml -dest x" puts them after the spec, and returns
// the other arguments. It fails when their number is not want.
func parse(fs *flag.FlagSet, args []string, want int, what string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != want {
		fmt.Fprintf(fs.Output(), "pagekit %s: want %s\n", fs.Name(), what)
		fs.Usage()
		return nil, flag.ErrHelp
	}
	return pos, nil
}

// headers is a repeated -H 'Name: value' flag.
type headers []string

func (h *headers) String() string { return strings.Join(*h, ", ") }

func (h *headers) Set(v string) error {
	if name, _, ok := strings.Cut(v, ":"); !ok || strings.TrimSpace(name) == "" {
		return errors.New("want 'Name: value'")
	}
	*h = append(*h, v)
	return nil
}

// exit reports err on stderr as the command name's, and returns 1, or 0
// for no error.
func exit(stderr io.Writer, name string, err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	fmt.Fprintf(stderr, "pagekit %s: %v\n", name, err)
	return 1
}
