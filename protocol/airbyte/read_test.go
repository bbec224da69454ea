package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/protocol"
	"github.com/pagekit/pagekit/protocol/protocoltest"
	"github.com/pagekit/pagekit/sink/schema"
)

type item struct {
	ID        string    `json:"id" pagekit:",pk"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// pages returns a paginator of n pages of two items each; before, when
// set, is called before the first page.
func pages(name string, n int, before func(context.Context) error) paginate.Paginator[item] {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return paginate.PaginatorFunc[item](func(ctx context.Context, pos paginate.Position) (paginate.Page[item], error) {
		if pos.Page == 0 && before != nil {
			if err := before(ctx); err != nil {
				return paginate.Page[item]{}, err
			}
		}
		p := int(pos.Page)
		var items []item
		for i := range 2 {
			k := 2*p + i
			items = append(items, item{ID: fmt.Sprintf("%s-%d", name, k), UpdatedAt: t0.Add(time.Duration(k) * time.Minute)})
		}
		return paginate.Page[item]{Items: items, More: p+1 < n, Next: paginate.Position{Page: int64(p + 1)}}, nil
	})
}

// testSource is a source of the streams that streams builds.
func testSource(streams func(out *protocol.Output) []*connector.Stream) *protocol.Source[struct{}] {
	return &protocol.Source[struct{}]{
		Name: "test",
		Open: func(_ context.Context, _ struct{}, out *protocol.Output) (*connector.Connector, error) {
			return connector.New(connector.Config{Logger: out.Logger()}, streams(out)...)
		},
	}
}

// itemStream is a stream of items into a protocol sink of out.
func itemStream(out *protocol.Output, name string, p paginate.Paginator[item]) *connector.Stream {
	sink := protocol.NewSink(out, schema.Must(schema.Derive[item](name)), protocol.SinkConfig[item]{Cursor: "updatedAt"})
	return connector.NewStream(name, p, sink, paginate.Options[item]{
		Group:     paginate.Group{Pages: 1},
		HighWater: func(it item) string { return it.UpdatedAt.Format(time.RFC3339) },
	})
}

// watcher is the output of a read, which closes seen once the output
// holds every string of want.
type watcher struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want []string
	seen chan struct{}
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if len(w.want) == 0 {
		return len(p), nil
	}
	for _, s := range w.want {
		if !bytes.Contains(w.buf.Bytes(), []byte(s)) {
			return len(p), nil
		}
	}
	close(w.seen)
	w.want = nil
	return len(p), nil
}

// readFiles writes a configuration and a catalog of streams, each
// incremental, and returns the read's arguments.
func readFiles(t *testing.T, streams ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var cs []any
	for _, s := range streams {
		cs = append(cs, map[string]any{"stream": map[string]any{"name": s, "json_schema": map[string]any{},
			"supported_sync_modes": []string{"incremental"}}, "sync_mode": "incremental", "destination_sync_mode": "append"})
	}
	cat, _ := json.Marshal(map[string]any{"streams": cs})
	cfg, catFile := filepath.Join(dir, "config.json"), filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(cfg, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(catFile, cat, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"read", "--config", cfg, "--catalog", catFile}
}

// TestStreamStatusPerStream checks that each stream's statuses come as
// the stream runs: STARTED before its first message, RUNNING before its
// first record, and COMPLETE (after its last state) or INCOMPLETE (after
// its TRACE ERROR) as soon as that stream ends, while the others still
// run. The stream "slow" waits for "fast" to be reported COMPLETE and
// "broken" INCOMPLETE before it serves a page, and gives up after a while.
func TestStreamStatusPerStream(t *testing.T) {
	w := &watcher{want: []string{
		`"stream_descriptor":{"name":"fast"},"status":"COMPLETE"`,
		`"stream_descriptor":{"name":"broken"},"status":"INCOMPLETE"`,
	}, seen: make(chan struct{})}
	waited := false
	src := testSource(func(out *protocol.Output) []*connector.Stream {
		return []*connector.Stream{
			itemStream(out, "fast", pages("fast", 3, nil)),
			itemStream(out, "slow", pages("slow", 2, func(ctx context.Context) error {
				select {
				case <-w.seen:
				case <-time.After(3 * time.Second):
					waited = true
				case <-ctx.Done():
					return ctx.Err()
				}
				return nil
			})),
			itemStream(out, "broken", pages("broken", 1, func(context.Context) error {
				return paginate.Permanent(errors.New("the API refused the request"))
			})),
		}
	})
	err := Run(t.Context(), src, readFiles(t, "fast", "slow", "broken"), w)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("Run: %v, want the broken stream's error", err)
	}
	if waited {
		t.Error(`"fast" was not reported COMPLETE, or "broken" INCOMPLETE, while "slow" still ran`)
	}
	o, perr := protocoltest.ParseAirbyte(w.buf.Bytes())
	if perr != nil {
		t.Fatal(perr)
	}
	checkStatusOrder(t, w.buf.Bytes())
	if len(o.Errors) != 1 || !strings.Contains(o.Errors[0], "broken") {
		t.Errorf("errors %q, want one of the broken stream", o.Errors)
	}
}

// checkStatusOrder checks the order of each stream's messages in out.
func checkStatusOrder(t *testing.T, out []byte) {
	t.Helper()
	type line struct {
		Type   string `json:"type"`
		Record *struct {
			Stream string `json:"stream"`
		} `json:"record"`
		State *struct {
			Stream struct {
				StreamDescriptor streamDescriptor `json:"stream_descriptor"`
			} `json:"stream"`
		} `json:"state"`
		Trace *struct {
			Type         string             `json:"type"`
			Error        *errorTrace        `json:"error"`
			StreamStatus *streamStatusTrace `json:"stream_status"`
		} `json:"trace"`
	}
	// what each stream wrote, in order: RECORD, STATE, ERROR or a status
	seq := make(map[string][]string)
	var all []string // "stream what", in order
	for _, l := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var m line
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		name, what := "", m.Type
		switch {
		case m.Record != nil:
			name = m.Record.Stream
		case m.State != nil:
			name = m.State.Stream.StreamDescriptor.Name
		case m.Trace != nil && m.Trace.StreamStatus != nil:
			name, what = m.Trace.StreamStatus.StreamDescriptor.Name, m.Trace.StreamStatus.Status
		case m.Trace != nil && m.Trace.Error != nil && m.Trace.Error.StreamDescriptor != nil:
			name, what = m.Trace.Error.StreamDescriptor.Name, "ERROR"
		default:
			continue
		}
		if len(seq[name]) == 0 || seq[name][len(seq[name])-1] != what || what != "RECORD" {
			seq[name] = append(seq[name], what)
		}
		all = append(all, name+" "+what)
	}
	want := map[string]string{
		"fast":   "STARTED RUNNING RECORD STATE RECORD STATE RECORD STATE COMPLETE",
		"slow":   "STARTED RUNNING RECORD STATE RECORD STATE COMPLETE",
		"broken": "STARTED ERROR INCOMPLETE",
	}
	for name, w := range want {
		if got := strings.Join(seq[name], " "); got != w {
			t.Errorf("stream %s wrote\n %s\nwant\n %s", name, got, w)
		}
	}
	index := func(s string) int {
		for i, a := range all {
			if a == s {
				return i
			}
		}
		return -1
	}
	if i, j := index("broken INCOMPLETE"), index("slow RECORD"); i < 0 || j < 0 || i > j {
		t.Errorf("broken's INCOMPLETE (message %d) does not come before slow's first record (%d)", i, j)
	}
}
