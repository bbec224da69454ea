// Package airbyte runs a pagekit connector as an Airbyte source: the
// commands spec, check, discover and read of the Airbyte protocol (v0,
// as the airbyte-protocol repository's airbyte_protocol.yaml defines its
// messages), each writing its messages to stdout, one JSON a line.
//
// The commands, as the platform runs them in the source's container:
//
//	spec                                                  SPEC: the configuration's JSON Schema
//	check    --config config.json                         CONNECTION_STATUS: SUCCEEDED, or FAILED with why
//	discover --config config.json                         CATALOG: the streams, their records' schemas, keys and cursors
//	read     --config config.json --catalog catalog.json [--state state.json]
//
// A read syncs the streams the configured catalog selects, in its sync
// modes: incremental streams from the state given, full_refresh streams
// from the start. It writes each committed page's RECORD messages, then a
// STATE message of that stream (type STREAM, its stream_state the
// stream's pagekit checkpoints, as package protocol describes them, and
// sourceStats.recordCount the records since the stream's previous STATE),
// so a STATE always follows every record it covers. TRACE messages give
// each stream's status as it runs (STARTED when it starts, RUNNING before
// its first record, COMPLETE or INCOMPLETE as soon as it ends, while the
// others run on) and each stream's failure (ERROR, with its failure_type:
// config_error, transient_error or system_error); the connector's log
// lines are LOG messages.
package airbyte

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/pagekit/pagekit/protocol"
)

// command is a parsed command line.
type command struct {
	name                   string
	config, catalog, state string
}

// usage is the synopsis of the commands.
const usage = "spec | check --config FILE | discover --config FILE | read --config FILE --catalog FILE [--state FILE]"

// Run runs src as an Airbyte source: args are the command and its flags,
// as the platform passes them to the image's entrypoint (os.Args[1:] of a
// program that is only a source). Every message goes to stdout. Run
// returns nil when the command did its work, a check whose status is
// FAILED included; otherwise it returns the error that it also reported
// in a TRACE message, and the process should exit with status 1.
func Run(ctx context.Context, src protocol.Runnable, args []string, stdout io.Writer) error {
	e := newEmitter(stdout)
	cmd, err := parse(args)
	if err != nil {
		e.fail(err, "")
		return err
	}
	switch cmd.name {
	case "spec":
		err = spec(src, e)
	case "check":
		err = check(ctx, src, e, cmd)
	case "discover":
		err = discover(ctx, src, e, cmd)
	case "read":
		err = read(ctx, src, e, cmd)
	}
	return err
}

// parse parses the command line.
func parse(args []string) (command, error) {
	if len(args) == 0 {
		return command{}, fmt.Errorf("airbyte: no command: %s", usage)
	}
	cmd := command{name: args[0]}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cmd.config, "config", "", "configuration `file`")
	fs.StringVar(&cmd.catalog, "catalog", "", "configured catalog `file`")
	fs.StringVar(&cmd.state, "state", "", "state `file`")
	if err := fs.Parse(args[1:]); err != nil {
		return cmd, fmt.Errorf("airbyte: %s: %w (%s)", cmd.name, err, usage)
	}
	if fs.NArg() > 0 {
		return cmd, fmt.Errorf("airbyte: %s: unexpected arguments %q (%s)", cmd.name, fs.Args(), usage)
	}
	var missing []string
	switch cmd.name {
	case "spec":
	case "check", "discover":
		if cmd.config == "" {
			missing = append(missing, "--config")
		}
	case "read":
		if cmd.config == "" {
			missing = append(missing, "--config")
		}
		if cmd.catalog == "" {
			missing = append(missing, "--catalog")
		}
	default:
		return cmd, fmt.Errorf("airbyte: unknown command %q: %s", cmd.name, usage)
	}
	if len(missing) > 0 {
		return cmd, fmt.Errorf("airbyte: %s needs %s (%s)", cmd.name, strings.Join(missing, " and "), usage)
	}
	return cmd, nil
}

// fail writes err as a TRACE ERROR message, of the stream name if any.
func (e *emitter) fail(err error, name string) {
	t := &errorTrace{Message: err.Error(), FailureType: failureType(err)}
	if name != "" {
		t.StreamDescriptor = &streamDescriptor{Name: name}
	}
	e.send(&message{Type: "TRACE", Trace: &traceMessage{Type: "ERROR", EmittedAt: e.millis(), Error: t}})
}

// failureType returns the protocol's failure type of err.
func failureType(err error) string {
	switch protocol.Classify(err) {
	case protocol.ConfigFailure:
		return "config_error"
	case protocol.TransientFailure:
		return "transient_error"
	}
	return "system_error"
}

// logger returns the logger whose lines become LOG messages.
func (e *emitter) logger() *slog.Logger {
	return slog.New(protocol.NewLogHandler(slog.LevelInfo, e.log))
}

func spec(src protocol.Runnable, e *emitter) error {
	sp, err := src.Spec()
	if err == nil {
		var cs map[string]any
		if cs, err = connectionSpecification(sp); err == nil {
			return e.send(&message{Type: "SPEC", Spec: &connectorSpec{
				DocumentationURL:        sp.DocumentationURL,
				ConnectionSpecification: cs,
				SupportsIncremental:     true,
			}})
		}
	}
	e.fail(err, "")
	return err
}

// check reports whether the configuration works, as a connection status:
// a configuration that does not is the check's answer, not its failure.
func check(ctx context.Context, src protocol.Runnable, e *emitter, cmd command) error {
	cfg, err := readFile("configuration", cmd.config)
	if err == nil {
		err = src.Test(ctx, cfg)
	}
	st := &connectionStatus{Status: "SUCCEEDED"}
	if err != nil {
		st = &connectionStatus{Status: "FAILED", Message: err.Error()}
	}
	return e.send(&message{Type: "CONNECTION_STATUS", ConnectionStatus: st})
}

func discover(ctx context.Context, src protocol.Runnable, e *emitter, cmd command) error {
	streams, err := describe(ctx, src, e, cmd.config)
	if err != nil {
		e.fail(err, "")
		return err
	}
	return e.send(&message{Type: "CATALOG", Catalog: catalogOf(streams)})
}

// describe builds the connector of the configuration in file to describe
// its streams.
func describe(ctx context.Context, src protocol.Runnable, e *emitter, file string) ([]protocol.Stream, error) {
	cfg, err := readFile("configuration", file)
	if err != nil {
		return nil, err
	}
	c, err := src.Connect(ctx, cfg, protocol.NewOutput(nil, nil, e.logger()))
	if err != nil {
		return nil, err
	}
	return protocol.Streams(c)
}

// readFile reads a JSON file the platform passed, what naming it in
// errors.
func readFile(what, name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, &protocol.ConfigError{Err: fmt.Errorf("read the %s: %w", what, err)}
	}
	if !json.Valid(b) {
		return nil, &protocol.ConfigError{Err: fmt.Errorf("the %s in %s is not valid JSON", what, name)}
	}
	return b, nil
}

// errUnknownStream reports a configured stream the source does not have.
var errUnknownStream = errors.New("the configured catalog names a stream the source does not have")
