package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/spec"
	"github.com/pagekit/pagekit/strategies"
)

// syncFlags are pagekit sync's flags.
type syncFlags struct {
	console.Flags
	Dest string
}

func (f *syncFlags) register(fs *flag.FlagSet) {
	f.Register(fs, console.FlagDB|console.FlagPostgres|console.FlagStreams|console.FlagConcurrency|console.FlagTimeout|
		console.FlagLimit|console.FlagReset|console.FlagRestart|console.FlagVerbose|console.FlagShow)
	fs.StringVar(&f.Dest, "dest", "", "where the tables go: sqlite:`DEST`, postgres://..., jsonl:DIR, parquet:DIR, duckdb:FILE (default: sqlite:SPEC's name.db)")
	fs.Lookup("concurrency").Usage = "pages of one stream fetched at once (default: the spec's, or 4)"
	fs.Lookup("restart").Usage = "when a stream's settings in the spec changed since its checkpoint (another page size, URL...), start it over from its last completed sync instead of stopping"
	fs.Lookup("timeout").Usage = "the longest a request waits for its response's headers or more of its body (default: the spec's, or 1m0s)"
}

// dest returns the destination the flags name, for the spec in file.
func (f *syncFlags) dest(file string) string {
	switch {
	case f.Dest != "":
		return f.Dest
	case f.Postgres != "":
		return f.Postgres
	case f.DB != "":
		return "sqlite:" + f.DB
	}
	return "sqlite:" + strings.TrimSuffix(filepath.Base(file), filepath.Ext(file)) + ".db"
}

// syncCmd is pagekit sync SPEC.
func syncCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f syncFlags
	f.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagekit sync SPEC [-dest DEST] [-streams a,b] [-restart] [-reset] [-limit N] [-v]")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, 1, "one spec file")
	if err != nil {
		return 2
	}
	err = runSync(ctx, pos[0], f, stdout, stderr)
	code := console.Report(stderr, "pagekit", err)
	if a := specAdvice(err, pos[0]); a != "" {
		fmt.Fprintln(stderr, a)
	}
	return code
}

// specAdvice returns what to do about err in the spec in file, beyond
// what console.Report advised, or "".
func specAdvice(err error, file string) string {
	var re *schema.RecordError
	var herr *strategies.HTTPError
	switch {
	case errors.As(err, &re) && re.Column != "" && errors.Is(err, schema.ErrBadValue):
		return fmt.Sprintf("The type of column %q came from the first values synced. Declare the type of field %q under the stream's "+
			"table.columns in %s (such as double, or string, which takes any value), then sync into a new table (table.name) "+
			"or drop table %q and sync again with -reset.", re.Column, re.Column, file, re.Table)
	case errors.Is(err, strategies.ErrMissingField),
		errors.As(err, &herr) && herr.StatusCode >= 400 && herr.StatusCode < 500 && herr.StatusCode != http.StatusTooManyRequests:
		return fmt.Sprintf("pagekit check %s says where in the spec the request or the response's shape is wrong.", file)
	}
	return ""
}

// runSync syncs the spec in file as f says.
func runSync(ctx context.Context, file string, f syncFlags, stdout, stderr io.Writer) error {
	sp, err := spec.Load(file)
	if err != nil {
		return err
	}
	dest, err := openDest(ctx, f.dest(file))
	if err != nil {
		return err
	}
	defer dest.Close()
	set := spec.Settings{Streams: f.Streams, Restart: f.Restart, MaxItems: f.Limit, Concurrency: f.Concurrency, Timeout: f.Timeout}
	var prog *console.ConnectorProgress
	single := oneStream(sp, f.Streams)
	if single == "" {
		prog = console.NewConnectorProgress(stderr, f.Verbose)
		set.Logger, set.Observe = prog.Logger, prog.Observe
	}
	b, err := sp.Build(ctx, dest, set)
	if err != nil {
		return err
	}
	defer b.Close()
	if f.Reset {
		if err := reset(ctx, dest, b); err != nil {
			return err
		}
	}
	if single != "" {
		err = syncOne(ctx, b, single, f, stdout, stderr)
	} else {
		var res connector.Result
		res, err = b.Connector.Run(ctx, b.Streams()...)
		prog.Finish()
		console.ConnectorSummary(stdout, res, err)
	}
	if f.Show > 0 {
		if sh, ok := dest.(Shower); ok {
			for _, name := range b.Streams() {
				st := sp.Stream(name)
				err = errors.Join(err, sh.Show(context.WithoutCancel(ctx), stdout, b.Table(name).Schema(), st.Options.HighWater, f.Show))
			}
		}
	}
	return err
}

// oneStream returns the stream a sync runs alone, when the selection is
// one top-level stream: it runs as paginate.Run, shown as the examples
// show one. Otherwise it returns "".
func oneStream(sp *spec.Spec, names []string) string {
	if len(names) == 0 && len(sp.Streams) == 1 {
		names = []string{sp.Streams[0].Name}
	}
	if len(names) != 1 {
		return ""
	}
	if st := sp.Stream(names[0]); st != nil && st.Parent == nil {
		return names[0]
	}
	return ""
}

// syncOne runs one top-level stream.
func syncOne(ctx context.Context, b *spec.Build, name string, f syncFlags, stdout, stderr io.Writer) error {
	prog := console.NewProgress(stderr, name, f.Verbose)
	res, err := b.Run(ctx, name, prog.Logger, prog.Observe)
	// The summary reports the checkpoint as saved: a page whose commit
	// raced with a Ctrl-C may be committed although the run counted it
	// as not.
	if cp, found, lerr := b.Table(name).Load(context.WithoutCancel(ctx), res.Stream); lerr == nil && found {
		res.Checkpoint = cp
	}
	console.Summary(stdout, res, err)
	return err
}

// reset forgets the checkpoints of the streams the build runs.
func reset(ctx context.Context, dest Dest, b *spec.Build) error {
	for _, name := range b.Streams() {
		if r, ok := dest.(Resetter); ok {
			if err := r.Reset(ctx, name); err != nil {
				return err
			}
			continue
		}
		if b.Spec().Stream(name).Parent != nil {
			return fmt.Errorf("-reset: this destination cannot forget the checkpoints of %q's partitions; remove its files to start over", name)
		}
		if err := b.Table(name).Save(ctx, paginate.Checkpoint{Stream: name}); err != nil {
			return err
		}
	}
	return nil
}
