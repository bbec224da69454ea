package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pagekit/pagekit/spec/detect"
)

// exitAmbiguous is the status of a detect whose proposal is a guess
// between candidates the responses could not tell apart.
const exitAmbiguous = 3

// detectCmd is pagekit detect URL: the spec it infers on stdout, what it
// found on stderr.
func detectCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var hs headers
	var opts detect.Options
	var body string
	fs.Var(&hs, "H", "a request `header` such as 'Authorization: Bearer ...' (repeatable); credentials go to the spec as ${NAME}s")
	fs.StringVar(&opts.Method, "X", "", "the request `method` (default GET, or POST with -d)")
	fs.StringVar(&body, "d", "", "the first request's JSON `body`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pagekit detect URL [-H 'Header: value']... [-X METHOD] [-d BODY] > api.yaml")
		fs.PrintDefaults()
	}
	pos, err := parse(fs, args, 1, "one URL")
	if err != nil {
		return 2
	}
	opts.Header = make(http.Header)
	for _, h := range hs {
		name, value, _ := strings.Cut(h, ":")
		opts.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if body != "" {
		opts.Body = []byte(body)
	}
	rep, err := detect.Detect(ctx, pos[0], opts)
	if err != nil {
		return exit(stderr, "detect", err)
	}
	y, err := rep.YAML()
	if err != nil {
		return exit(stderr, "detect", err)
	}
	stdout.Write(y)
	fmt.Fprintf(stderr, "pagekit detect: %s, confidence %s (%d requests)\n", rep.Style, rep.Confidence, rep.Requests)
	for _, a := range rep.Ambiguous {
		fmt.Fprintf(stderr, "  AMBIGUOUS: %s\n", a)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "  WARNING: %s\n", w)
	}
	if len(rep.Ambiguous) > 0 {
		return exitAmbiguous
	}
	return 0
}
