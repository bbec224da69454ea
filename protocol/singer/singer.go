// Package singer runs a pagekit connector as a Singer tap (Singer
// specification 0.3.0), as Meltano and the Singer targets run taps:
//
//	tap --config config.json --discover > catalog.json
//	tap --config config.json [--state state.json] [--catalog catalog.json]
//	tap --about [--format json]
//
// Discovery prints the catalog: each stream with the JSON Schema of its
// records and its metadata (selected, replication-method,
// replication-key, table-key-properties, valid-replication-keys). A sync
// writes, one JSON a line on stdout, a SCHEMA message for each stream it
// syncs before any of its records, then for each committed page its
// RECORD messages and a STATE message whose value is
// {"bookmarks": {"<stream>": <state>, ...}}, each stream's state its
// pagekit checkpoints as package protocol describes them; so a STATE
// always follows every record it covers. With a catalog, the sync honours
// each stream's selected and replication-method (FULL_TABLE reads the
// stream from the start; INCREMENTAL from its bookmark); without one it
// syncs every stream, incrementally where it has a cursor. Every column is
// written (each property's inclusion is automatic). Log lines go to
// stderr.
package singer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/sink/schema"
)

// command is a parsed command line.
type command struct {
	config, state, catalog string
	discover, about        bool
	format                 string
}

// Run runs src as a Singer tap: args are the tap's flags (os.Args[1:] of
// a program that is only a tap). The catalog of --discover and every
// message of a sync go to stdout; log lines and errors to stderr. Run
// returns the error it reported, for which the process should exit with
// status 1.
func Run(ctx context.Context, src protocol.Runnable, args []string, stdout, stderr io.Writer) error {
	errLog := &lines{w: stderr}
	cmd, err := parse(args)
	if err == nil {
		switch {
		case cmd.about:
			err = about(src, stdout, cmd.format)
		case cmd.discover:
			err = discover(ctx, src, cmd, stdout, errLog)
		default:
			err = syncStreams(ctx, src, cmd, stdout, errLog)
		}
	}
	if err != nil {
		errLog.write(slog.LevelError, err.Error())
	}
	return err
}

func parse(args []string) (command, error) {
	var cmd command
	fs := flag.NewFlagSet("tap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cmd.config, "config", "", "configuration `file`")
	fs.StringVar(&cmd.state, "state", "", "state `file`")
	fs.StringVar(&cmd.catalog, "catalog", "", "catalog `file`")
	fs.StringVar(&cmd.catalog, "properties", "", "catalog `file` (its older name)")
	fs.BoolVar(&cmd.discover, "discover", false, "print the catalog")
	fs.BoolVar(&cmd.about, "about", false, "print what the tap is and its settings")
	fs.StringVar(&cmd.format, "format", "json", "format of --about: json")
	if err := fs.Parse(args); err != nil {
		return cmd, fmt.Errorf("singer: %w (usage: --config FILE [--discover | --state FILE --catalog FILE] | --about)", err)
	}
	if fs.NArg() > 0 {
		return cmd, fmt.Errorf("singer: unexpected arguments %q", fs.Args())
	}
	if cmd.config == "" && !cmd.about {
		return cmd, errors.New("singer: --config is required")
	}
	return cmd, nil
}

// about prints the tap's name, capabilities and the JSON Schema of its
// settings, as Meltano reads them.
func about(src protocol.Runnable, stdout io.Writer, format string) error {
	if format != "json" {
		return fmt.Errorf("singer: --about --format %q: only json", format)
	}
	sp, err := src.Spec()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(map[string]any{
		"name":         sp.Name,
		"capabilities": []string{"catalog", "discover", "state", "about"},
		"settings":     sp.Config,
	}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// discover prints the catalog.
func discover(ctx context.Context, src protocol.Runnable, cmd command, stdout io.Writer, log *lines) error {
	cfg, err := readFile("configuration", cmd.config)
	if err != nil {
		return err
	}
	c, err := src.Connect(ctx, cfg, protocol.NewOutput(nil, nil, log.logger()))
	if err != nil {
		return err
	}
	streams, err := protocol.Streams(c)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(catalogOf(streams), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// readFile reads a JSON file, what naming it in errors.
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

// syncStreams syncs the selected streams.
func syncStreams(ctx context.Context, src protocol.Runnable, cmd command, stdout io.Writer, log *lines) error {
	cfg, err := readFile("configuration", cmd.config)
	if err != nil {
		return err
	}
	st := protocol.NewState()
	if cmd.state != "" {
		b, err := os.ReadFile(cmd.state)
		if err != nil {
			return &protocol.ConfigError{Err: fmt.Errorf("read the state: %w", err)}
		}
		if err := loadState(b, st); err != nil {
			return err
		}
	}
	var catBytes []byte
	if cmd.catalog != "" {
		if catBytes, err = readFile("catalog", cmd.catalog); err != nil {
			return err
		}
	}
	w := &writer{w: bufio.NewWriterSize(stdout, 64<<10)}
	out := protocol.NewOutput(w, st, log.logger())
	c, err := src.Connect(ctx, cfg, out)
	if err != nil {
		return err
	}
	streams, err := protocol.Streams(c)
	if err != nil {
		return err
	}
	sel, err := selectStreams(catBytes, streams)
	if err != nil {
		return err
	}
	if len(sel.names) == 0 {
		log.write(slog.LevelWarn, "singer: the catalog selects no stream: nothing to sync")
		return nil
	}
	out.WithState(func(st *protocol.State) {
		for name, full := range sel.full {
			if full {
				st.DropStream(name)
			}
		}
	})
	if err := w.schemas(sel, streams); err != nil {
		return err
	}
	res, runErr := c.Run(ctx, sel.names...)
	if err := out.Flush(); err != nil {
		return err
	}
	return finish(sel.names, res, runErr, log)
}

// finish reports each stream that failed.
func finish(names []string, res connector.Result, runErr error, log *lines) error {
	var errs []error
	for _, name := range names {
		r, ran := res.Stream(name)
		switch {
		case !ran:
			errs = append(errs, fmt.Errorf("stream %q did not run", name))
		case r.Err != nil:
			log.write(slog.LevelError, fmt.Sprintf("stream %q: %v", name, r.Err))
			errs = append(errs, fmt.Errorf("stream %q: %w", name, r.Err))
		}
	}
	if len(errs) == 0 {
		return runErr
	}
	return fmt.Errorf("singer: %d of %d streams failed: %w", len(errs), len(names), errors.Join(errs...))
}

// writer writes a sync's messages: the SCHEMA of each stream, then each
// commit's RECORD messages and the STATE after them.
type writer struct {
	w      *bufio.Writer
	stream []byte // scratch: the stream's name as JSON
}

// schemas writes the SCHEMA message of each selected stream.
func (w *writer) schemas(sel selection, streams []protocol.Stream) error {
	for _, s := range streams {
		if _, ok := sel.full[s.Name]; !ok {
			continue
		}
		m := schemaMessage{Type: "SCHEMA", Stream: s.Name, Schema: recordSchema(s), KeyProperties: s.Table.PrimaryKey}
		if s.Cursor != "" {
			m.BookmarkProperties = []string{s.Cursor}
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		if _, err := w.w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return w.w.Flush()
}

type schemaMessage struct {
	Type               string         `json:"type"`
	Stream             string         `json:"stream"`
	Schema             map[string]any `json:"schema"`
	KeyProperties      []string       `json:"key_properties"`
	BookmarkProperties []string       `json:"bookmark_properties,omitempty"`
}

// deletedAt is the property that marks a record deleted, as the Singer
// SDK's taps write it.
const deletedAt = "_sdc_deleted_at"

// recordSchema is the JSON Schema of a stream's records.
func recordSchema(s protocol.Stream) map[string]any {
	js := protocol.RecordSchema(s.Table, nil)
	if s.Deletes {
		js["properties"].(map[string]any)[deletedAt] = protocol.ColumnSchema(schema.UTCDatetime, true)
	}
	return js
}

// GlobalState reports that a STATE holds every stream's state.
func (w *writer) GlobalState() bool { return true }

// Commit writes the records of c, then the STATE of every stream when it
// is due, and flushes.
func (w *writer) Commit(c *protocol.Commit) error {
	if c.N > 0 {
		now := time.Now().UTC()
		w.stream, _ = json.Marshal(c.Stream)
		suffix := append([]byte(`,"time_extracted":"`), now.Format(time.RFC3339Nano)...)
		suffix = append(suffix, "\"}\n"...)
		var deleted []byte
		if c.Ops != nil {
			deleted = append([]byte(`,"`+deletedAt+`":"`), now.Format(time.RFC3339Nano)...)
			deleted = append(deleted, `"}`...)
		}
		for i := range c.N {
			b := w.w.AvailableBuffer()
			b = append(b, `{"type":"RECORD","stream":`...)
			b = append(b, w.stream...)
			b = append(b, `,"record":`...)
			b, err := c.AppendJSON(b, i)
			if err != nil {
				return fmt.Errorf("singer: stream %q: record %d of the page: %w", c.Stream, i+1, err)
			}
			if c.Ops != nil && c.Op(i) != schema.Upsert {
				b = append(b[:len(b)-1], deleted...)
			}
			b = append(b, suffix...)
			if _, err := w.w.Write(b); err != nil {
				return err
			}
		}
	}
	if c.State == nil {
		return nil
	}
	b := w.w.AvailableBuffer()
	b = append(b, `{"type":"STATE","value":{"bookmarks":`...)
	b = c.State.AppendStreams(b)
	b = append(b, "}}\n"...)
	if _, err := w.w.Write(b); err != nil {
		return err
	}
	return w.w.Flush()
}

// lines writes log lines to stderr, one at a time.
type lines struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lines) write(level slog.Level, line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", level, line)
}

func (l *lines) logger() *slog.Logger {
	return slog.New(protocol.NewLogHandler(slog.LevelInfo, l.write))
}
