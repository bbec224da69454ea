// Command mockapi serves the mock paginated API of package
// github.com/pagekit/pagekit/mockapi on a local address, for connectors and
// benchmarks that run outside Go tests, or against which the Python connector
// of the Connector SDK's page-number example can run.
//
//	go run ./examples/mockapi -addr 127.0.0.1:5001 -records 200 -latency 20ms
//
// Its flags mirror mockapi.Config; run it with -h for the list. It prints
// the address it listens on and the endpoints, serves until interrupted
// (Ctrl-C or SIGTERM), then shuts down gracefully and prints what it served.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pagekit/pagekit/mockapi"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "mockapi:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. It prints its address to stdout and, with
// -v, one line a request to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mockapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg       mockapi.Config
		addr      = fs.String("addr", "127.0.0.1:5001", "`address` to listen on; port 0 picks a free one")
		tieGroups = fs.String("tie-groups", "", "extra ties: comma-separated `at:size` runs of records sharing one updatedAt")
		codes     = fs.String("error-codes", "500,502,503", "comma-separated `statuses` that -error-rate injects")
		wallClock = fs.Bool("wall-clock", false, "give mutated records the current time (when later than the data) instead of one second after the latest")
		verbose   = fs.Bool("v", false, "log every request to stderr")
	)
	fs.IntVar(&cfg.Records, "records", 200, "number of records in the dataset")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the dataset, mutations and faults")
	fs.Float64Var(&cfg.TieRate, "tie-rate", 0, "chance a record shares the previous updatedAt (0: 0.05, negative: no ties)")
	fs.IntVar(&cfg.PreEncode, "pre-encode", 0, "largest dataset whose JSON is encoded once at start (0: 250000, negative: never)")
	fs.IntVar(&cfg.MaxPerPage, "max-per-page", 50, "largest per_page or limit accepted")
	fs.IntVar(&cfg.PageSizeCap, "page-cap", 0, "serve at most this many records a page, whatever was asked (0: no cap)")
	fs.DurationVar(&cfg.Latency, "latency", 0, "fixed delay before every response")
	fs.DurationVar(&cfg.LatencyJitter, "latency-jitter", 0, "extra random delay in [0, jitter) before every response")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "fraction of requests answered with an -error-codes status")
	fs.Float64Var(&cfg.ThrottleRate, "throttle-rate", 0, "chance a request starts a burst of 429s")
	fs.IntVar(&cfg.ThrottleBurst, "throttle-burst", 3, "consecutive 429s in a burst")
	fs.DurationVar(&cfg.RetryAfter, "retry-after", time.Second, "delay a 429's Retry-After asks for (whole seconds)")
	fs.Float64Var(&cfg.DropRate, "drop-rate", 0, "fraction of responses cut off mid-body")
	fs.Float64Var(&cfg.SlowRate, "slow-rate", 0, "fraction of responses whose body trickles out")
	fs.IntVar(&cfg.SlowChunk, "slow-chunk", 128, "bytes per write of a slow body")
	fs.DurationVar(&cfg.SlowDelay, "slow-delay", 10*time.Millisecond, "pause between writes of a slow body")
	fs.IntVar(&cfg.Mutate.Every, "mutate-every", 0, "change the dataset every this many requests (0: never)")
	fs.IntVar(&cfg.Mutate.Updates, "mutate-updates", 1, "records updated by each change")
	fs.IntVar(&cfg.Mutate.Inserts, "mutate-inserts", 1, "records inserted by each change")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.TieGroups, err = parseTieGroups(*tieGroups); err != nil {
		return err
	}
	if cfg.ErrorCodes, err = parseInts(*codes); err != nil {
		return fmt.Errorf("-error-codes: %w", err)
	}
	if *wallClock {
		cfg.Clock = time.Now
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	start := time.Now()
	api := mockapi.New(cfg)
	built := time.Since(start)
	var h http.Handler = api
	if *verbose {
		h = logRequests(h, log.New(stderr, "", log.Ltime|log.Lmicroseconds))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "mockapi: %d records (seed %d, built in %v), listening on %s\n", api.Len(), cfg.Seed, built.Round(time.Millisecond), base)
	for _, p := range []string{
		mockapi.PathPageNumber, mockapi.PathOffset, mockapi.PathNextPageURL, mockapi.PathKeyset,
		mockapi.PathNextToken, mockapi.PathLinkHeader, mockapi.PathStartingAfter,
		mockapi.PathJSONServer, mockapi.PathJSONServerV1, mockapi.PathLinkRelative, mockapi.PathIDs,
	} {
		fmt.Fprintf(stdout, "  %s%s\n", base, p)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Let requests in flight finish, but not a trickling body for ever.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	<-served
	fmt.Fprintf(stdout, "mockapi: stopped; %+v\n", api.Stats())
	return err
}

// parseTieGroups parses "at:size,at:size".
func parseTieGroups(s string) ([]mockapi.TieGroup, error) {
	var groups []mockapi.TieGroup
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		at, size, ok := strings.Cut(part, ":")
		a, err1 := strconv.Atoi(at)
		n, err2 := strconv.Atoi(size)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("-tie-groups: %q is not at:size", part)
		}
		groups = append(groups, mockapi.TieGroup{At: a, Size: n})
	}
	return groups, nil
}

// parseInts parses a comma-separated list of integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// logRequests logs each request's method, URL, status, bytes and time.
func logRequests(h http.Handler, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			l.Printf("%s %s %d %dB %v", r.Method, r.URL.RequestURI(), sw.status, sw.bytes, time.Since(start).Round(time.Microsecond))
		}()
		h.ServeHTTP(sw, r)
	})
}

// statusWriter records the status and size of a response. Unwrap lets
// http.ResponseController reach the connection, for dropped bodies.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
