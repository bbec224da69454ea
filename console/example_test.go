package console_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pagekit/pagekit/console"
	"github.com/pagekit/pagekit/paginate"
)

// A command-line sync: progress while it runs, a summary at the end, and
// an exit status for the shell.
func Example() {
	// Three pages of numbers, reporting the server's total.
	api := paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
		n := int(pos.Offset)
		next := pos.Offset + 4
		return paginate.Page[int]{Items: []int{n + 1, n + 2, n + 3, n + 4}, More: next < 12, Next: paginate.Position{Offset: next}, TotalItems: 12}, nil
	})

	// A connector passes os.Stderr: a bar on a terminal, log lines
	// otherwise. Here the progress is discarded to keep the output stable.
	prog := console.NewProgress(io.Discard, "numbers", false)
	res, err := paginate.Run(context.Background(), api, new(paginate.MemorySink[int]), paginate.Options[int]{
		Stream:  "numbers",
		Logger:  prog.Logger,
		Observe: prog.Observe,
	})
	res.Duration = 1500 * time.Microsecond // it varies from run to run
	console.Summary(os.Stdout, res, err)
	fmt.Println("exit status", console.ExitCode(err))
	// Output:
	// Sync of "numbers" complete.
	//   records written  12
	//   pages            3
	//   retries          0
	//   duration         1.5ms
	//   stop reason      last page
	//   server total     12 records
	//   drift            none
	//   next run         full sync
	// exit status 0
}

func ExampleExitCode() {
	fmt.Println(console.ExitCode(nil))
	fmt.Println(console.ExitCode(fmt.Errorf("stream %q: %w", "users", context.Canceled)))
	fmt.Println(console.ExitCode(errors.New("fetch page 3: 500 Internal Server Error")))
	// Output:
	// 0
	// 130
	// 1
}

// The flags every command-line sync shares, registered in one call; the
// values set before the call are the defaults.
func ExampleFlags_Register() {
	cfg := console.Flags{DB: "warehouse.db", PerPage: 50, Concurrency: 4, Show: 5}
	fs := flag.NewFlagSet("users", flag.ContinueOnError)
	cfg.Register(fs, console.SyncFlags)
	fs.Parse([]string{"-per-page", "20", "-restart", "-url", "https://api.example.com/users"})
	fmt.Println(cfg.URL, cfg.DB, cfg.PerPage, cfg.Restart, cfg.Reset)
	// Output:
	// https://api.example.com/users warehouse.db 20 true false
}

// The one message a sync ends with: what went wrong and what to do next,
// in the words of the flags; an interrupt is not an error.
func ExampleReport() {
	mismatch := &paginate.MismatchError{Stream: "users", Position: paginate.Position{Page: 7},
		Changes: []paginate.Change{{Part: "size", Saved: "50", Now: "20"}}}
	code := console.Report(os.Stdout, "users", fmt.Errorf("paginate: %w", mismatch))
	fmt.Println("exit status", code)
	code = console.Report(os.Stdout, "users", context.Canceled)
	fmt.Println("exit status", code)
	// Output:
	// users: error: the checkpoint of stream "users" (at page 7) was saved with other settings: size "50", now "20"
	// To resume it, run with the settings it was saved with; to start it over from its last completed sync (the rows already synced stay), run again with -restart; to sync everything again, with -reset.
	// exit status 1
	// users: interrupted. What was committed is kept: run the same command again to resume where it stopped.
	// exit status 130
}
