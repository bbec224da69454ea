package console

import (
	"flag"
	"strings"
	"time"
)

// Flags are the flags that command-line syncs share: one name and one
// meaning wherever they appear (docs/examples.md lists them). A command
// registers those that apply to it with one call to [Flags.Register];
// the values set before the call are the defaults the help shows.
//
//	cfg := console.Flags{DB: "warehouse.db", PerPage: 50, Concurrency: 4, Show: 5}
//	fs := flag.NewFlagSet("users", flag.ExitOnError)
//	cfg.Register(fs, console.SyncFlags)
//	fs.Parse(os.Args[1:])
type Flags struct {
	// URL is the API's endpoint (-url), or its base URL for a command of
	// many streams. The examples start a mock API when it is empty.
	URL string
	// DB is the SQLite database file (-db).
	DB string
	// Postgres is the DSN of a PostgreSQL database to sync into instead
	// of DB (-postgres).
	Postgres string
	// PerPage is the number of records a page (-per-page): the size
	// parameter each request sends, whatever the API calls it.
	PerPage int
	// Concurrency is the number of pages of one stream fetched at once
	// (-concurrency), for paginate.Options.Concurrency.
	Concurrency int
	// Timeout is the longest a request waits for its response's headers,
	// or for more of its body, before the retry policy tries again
	// (-timeout), for strategies.Timeouts' Header and Idle.
	Timeout time.Duration
	// Limit stops the sync after this many records (-limit), for
	// paginate.Options.Limits.MaxItems; the next run goes on from there. Zero
	// means no limit.
	Limit int64
	// Reset forgets the saved checkpoints and syncs everything again
	// (-reset).
	Reset bool
	// Restart starts a stream over from its last completed sync when its
	// checkpoint was saved by other settings, such as another -per-page
	// (-restart), for paginate.Options.Restart. Without it such a sync
	// stops and says what changed.
	Restart bool
	// Verbose logs a line for every page instead of drawing a progress
	// bar (-v).
	Verbose bool
	// Show is the number of rows of the table printed at the end (-show).
	Show int
	// Streams selects the streams of a connector to sync (-streams, comma
	// separated); empty means all.
	Streams []string
}

// Flag names one of the shared flags, for [Flags.Register].
type Flag uint

// The shared flags.
const (
	FlagURL Flag = 1 << iota
	FlagDB
	FlagPostgres
	FlagPerPage
	FlagConcurrency
	FlagTimeout
	FlagLimit
	FlagReset
	FlagRestart
	FlagVerbose
	FlagShow
	FlagStreams
)

// SyncFlags are the flags every sync into a database takes: -url, -db,
// -per-page, -concurrency, -timeout, -limit, -reset, -restart, -v and
// -show.
const SyncFlags = FlagURL | FlagDB | FlagPerPage | FlagConcurrency | FlagTimeout | FlagLimit |
	FlagReset | FlagRestart | FlagVerbose | FlagShow

// Register defines on fs the flags of which that set f's fields, with
// f's values as their defaults.
func (f *Flags) Register(fs *flag.FlagSet, which Flag) {
	if which&FlagURL != 0 {
		fs.StringVar(&f.URL, "url", f.URL, "the API's endpoint `URL` (default: an in-process mock API)")
	}
	if which&FlagDB != 0 {
		fs.StringVar(&f.DB, "db", f.DB, "SQLite database `file` to sync into")
	}
	if which&FlagPostgres != 0 {
		fs.StringVar(&f.Postgres, "postgres", f.Postgres, "sync into the PostgreSQL database at this `DSN` instead of -db")
	}
	if which&FlagPerPage != 0 {
		fs.IntVar(&f.PerPage, "per-page", f.PerPage, "records a page")
	}
	if which&FlagConcurrency != 0 {
		fs.IntVar(&f.Concurrency, "concurrency", f.Concurrency, "pages of one stream fetched at once, where the next pages are known in advance")
	}
	if which&FlagTimeout != 0 {
		fs.DurationVar(&f.Timeout, "timeout", f.Timeout, "give up on a request that waits this long for its response's headers, or for more of its body; the retries then try again")
	}
	if which&FlagLimit != 0 {
		fs.Int64Var(&f.Limit, "limit", f.Limit, "stop after this many `records` (0: no limit); the next run goes on from there")
	}
	if which&FlagReset != 0 {
		fs.BoolVar(&f.Reset, "reset", f.Reset, "forget the saved checkpoints and sync everything again")
	}
	if which&FlagRestart != 0 {
		fs.BoolVar(&f.Restart, "restart", f.Restart, "when the settings changed since the checkpoint (another -per-page, -url...), start over from the last completed sync instead of stopping")
	}
	if which&FlagVerbose != 0 {
		fs.BoolVar(&f.Verbose, "v", f.Verbose, "log a line for every page, with the full detail of every retry, instead of drawing a progress bar")
	}
	if which&FlagShow != 0 {
		fs.IntVar(&f.Show, "show", f.Show, "`rows` of the table to print at the end (0: none)")
	}
	if which&FlagStreams != 0 {
		fs.Func("streams", "comma-separated `streams` to sync (default: all)", func(s string) error {
			f.Streams = nil
			for _, name := range strings.Split(s, ",") {
				if name = strings.TrimSpace(name); name != "" {
					f.Streams = append(f.Streams, name)
				}
			}
			return nil
		})
	}
}
