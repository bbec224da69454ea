package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/spec"
)

// checkCmd is pagekit check SPEC, and with discover pagekit discover
// SPEC: the spec checked, then the first page of each stream fetched,
// and what it says.
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer, discover bool) int {
	name := "check"
	if discover {
		name = "discover"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f console.Flags
	f.Register(fs, console.FlagStreams)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pagekit %s SPEC [-streams a,b]\n", name)
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, 1, "one spec file")
	if err != nil {
		return 2
	}
	sp, err := spec.Load(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	names := f.Streams
	if len(names) == 0 {
		for _, st := range sp.Streams {
			names = append(names, st.Name)
		}
	}
	failed := 0
	for _, n := range names {
		pr, err := sp.Probe(ctx, n)
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "%s: FAILED: %v\n", n, err)
			continue
		}
		for _, w := range pr.Warnings {
			fmt.Fprintf(stdout, "%s: warning: %s\n", n, w)
		}
		if discover {
			describe(stdout, sp.Stream(n), pr)
			continue
		}
		line := fmt.Sprintf("%s: ok: the first page holds %d records", n, pr.Records)
		if pr.Parent != "" {
			line = fmt.Sprintf("%s: ok: the first page of the partition of %s %q holds %d records", n, sp.Stream(n).Parent.Stream, pr.Parent, pr.Records)
		}
		if pr.TotalItems > 0 {
			line += fmt.Sprintf(" of %d", pr.TotalItems)
		}
		fmt.Fprintf(stdout, "%s, %d columns\n", line, len(pr.Table.Columns))
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "pagekit %s: %d of %d streams failed\n", name, failed, len(names))
		return 1
	}
	return 0
}

// describe prints a stream and its table, as discover lists them.
func describe(w io.Writer, st *spec.Stream, pr *spec.Probe) {
	fmt.Fprintf(w, "stream %s", st.Name)
	if st.Parent != nil {
		fmt.Fprintf(w, " (a child of %s)", st.Parent.Stream)
	}
	fmt.Fprintf(w, "\n  table %s, primary key %s", pr.Table.Name, strings.Join(pr.Table.PrimaryKey, ", "))
	if st.Options.HighWater != "" {
		fmt.Fprintf(w, ", cursor %s", st.Options.HighWater)
	}
	fmt.Fprintln(w)
	declared := st.Table.Columns
	for _, c := range pr.Table.Columns {
		how := "inferred"
		if _, ok := declared[c.Name]; ok {
			how = "declared"
		}
		fmt.Fprintf(w, "    %-24s %-13s %s\n", c.Name, c.Type, how)
	}
}
