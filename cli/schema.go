package cli

import (
	"flag"
	"fmt"
	"io"

	"github.com/pagekit/pagekit/spec"
)

// schemaCmd is pagekit schema: the spec's JSON Schema on stdout.
func schemaCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagekit schema > pagekit.schema.json")
		fmt.Fprintln(stderr, "then start a spec with: # yaml-language-server: $schema=./pagekit.schema.json")
	}
	if _, err := parse(fs, args, 0, "no arguments"); err != nil {
		return 2
	}
	stdout.Write(spec.JSONSchema())
	return 0
}
