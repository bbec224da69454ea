package airbyte

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/sink/schema"
)

// read syncs the streams the configured catalog selects.
func read(ctx context.Context, src protocol.Runnable, e *emitter, cmd command) error {
	sel, c, out, w, err := prepareRead(ctx, src, e, cmd)
	if err != nil {
		e.fail(err, "")
		return err
	}
	_, runErr := c.Run(ctx, sel.names...)
	if err := out.Flush(); err != nil {
		return err // the output is gone: nothing more can be said
	}
	return w.finish(sel.names, runErr)
}

// prepareRead reads the files of a read and builds its connector.
func prepareRead(ctx context.Context, src protocol.Runnable, e *emitter, cmd command) (selection, *connector.Connector, *protocol.Output, *writer, error) {
	cfg, err := readFile("configuration", cmd.config)
	if err != nil {
		return selection{}, nil, nil, nil, err
	}
	catBytes, err := readFile("configured catalog", cmd.catalog)
	if err != nil {
		return selection{}, nil, nil, nil, err
	}
	st := protocol.NewState()
	if cmd.state != "" {
		b, err := os.ReadFile(cmd.state)
		if err != nil {
			return selection{}, nil, nil, nil, &protocol.ConfigError{Err: fmt.Errorf("read the state: %w", err)}
		}
		if err := loadState(b, st); err != nil {
			return selection{}, nil, nil, nil, err
		}
	}
	w := &writer{e: e, running: make(map[string]bool), counts: make(map[string]int64), done: make(map[string]bool)}
	out := protocol.NewOutput(w, st, e.logger())
	c, err := src.Connect(ctx, cfg, out)
	if err != nil {
		return selection{}, nil, nil, nil, err
	}
	streams, err := protocol.Streams(c)
	if err != nil {
		return selection{}, nil, nil, nil, err
	}
	sel, err := selectStreams(catBytes, streams)
	if err != nil {
		return selection{}, nil, nil, nil, err
	}
	out.WithState(func(st *protocol.State) {
		for name, full := range sel.full {
			if full {
				st.DropStream(name)
			}
		}
	})
	return sel, c, out, w, nil
}

// writer writes a read's commits: the RECORD messages of a page, then the
// STATE of its stream; and each stream's statuses as it starts and ends.
type writer struct {
	e       *emitter
	running map[string]bool  // streams whose RUNNING status is out
	counts  map[string]int64 // records since the stream's last STATE
	done    map[string]bool  // streams whose COMPLETE or INCOMPLETE is out
	errs    []error          // of the streams that failed
	stream  []byte           // scratch: the stream's name as JSON
}

// StreamStarted writes the stream's STARTED status.
func (w *writer) StreamStarted(name string) error {
	return w.e.streamStatus(name, statusStarted)
}

// StreamDone writes the stream's COMPLETE status, or its TRACE ERROR and
// INCOMPLETE status.
func (w *writer) StreamDone(name string, err error) error {
	w.done[name] = true
	if err == nil {
		return w.e.streamStatus(name, statusComplete)
	}
	w.errs = append(w.errs, err)
	w.e.fail(fmt.Errorf("stream %q: %w", name, err), name)
	return w.e.streamStatus(name, statusIncomplete)
}

// Commit writes c's records and the state of its stream: the stream's
// RUNNING status first, before its first record.
func (w *writer) Commit(c *protocol.Commit) error {
	e := w.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.N > 0 {
		if !w.running[c.Stream] {
			w.running[c.Stream] = true
			if err := e.sendLocked(statusMessage(e.millis(), c.Stream, statusRunning)); err != nil {
				return err
			}
		}
		if err := w.records(c); err != nil {
			return err
		}
	}
	if c.State == nil {
		return nil
	}
	return w.stateLocked(c.Stream, c.State.Stream(c.Stream))
}

// records writes the RECORD messages of c.
func (w *writer) records(c *protocol.Commit) error {
	e := w.e
	now := e.now()
	w.stream, _ = json.Marshal(c.Stream)
	var deleted []byte
	if c.Ops != nil {
		deleted = append([]byte(`,"`+deletedAt+`":"`), now.UTC().Format(time.RFC3339Nano)...)
		deleted = append(deleted, `"}`...)
	}
	suffix := strconv.AppendInt([]byte(`,"emitted_at":`), now.UnixMilli(), 10)
	suffix = append(suffix, "}}\n"...)
	for i := range c.N {
		b := e.w.AvailableBuffer()
		b = append(b, `{"type":"RECORD","record":{"stream":`...)
		b = append(b, w.stream...)
		b = append(b, `,"data":`...)
		b, err := c.AppendJSON(b, i)
		if err != nil {
			return fmt.Errorf("airbyte: stream %q: record %d of the page: %w", c.Stream, i+1, err)
		}
		if c.Ops != nil {
			b = b[:len(b)-1] // the record's closing brace
			if c.Op(i) == schema.Upsert {
				b = append(b, `,"`+deletedAt+`":null}`...)
			} else {
				b = append(b, deleted...)
			}
		}
		b = append(b, suffix...)
		if err := e.writeLocked(b); err != nil {
			return err
		}
	}
	w.counts[c.Stream] += int64(c.N)
	return nil
}

// stateLocked writes the STATE of the stream name, and flushes.
func (w *writer) stateLocked(name string, state json.RawMessage) error {
	n := w.counts[name]
	w.counts[name] = 0
	return w.e.sendLocked(&message{Type: "STATE", State: &stateMessage{
		Type:        "STREAM",
		Stream:      &streamState{StreamDescriptor: streamDescriptor{Name: name}, StreamState: state},
		SourceStats: &stateStats{RecordCount: count(n)},
	}})
}

// finish ends a read once the connector's run returned: each stream that
// did not end (it never ran) is INCOMPLETE, and the read's error joins
// those of every stream that failed.
func (w *writer) finish(names []string, runErr error) error {
	e := w.e
	for _, name := range names {
		if w.done[name] {
			continue
		}
		err := fmt.Errorf("stream %q did not run", name)
		if runErr != nil {
			err = fmt.Errorf("stream %q did not run: %w", name, runErr)
		}
		w.errs = append(w.errs, err)
		e.fail(err, name)
		if err := e.streamStatus(name, statusIncomplete); err != nil {
			return err
		}
	}
	if len(w.errs) == 0 && runErr != nil {
		w.errs = append(w.errs, runErr)
		e.fail(runErr, "")
	}
	return errors.Join(w.errs...)
}
