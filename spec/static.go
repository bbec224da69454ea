package spec

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pagekit/pagekit/internal/forward"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// staticSink opens the destination's sink of a stream whose table is
// fixed when the build is made: the declared columns and those of its
// first page (see Settings.Static).
func (b *Build) staticSink(ctx context.Context, dest Destination, name string) (paginate.Sink[Record], schema.Table, error) {
	pr, err := b.spec.Probe(ctx, name)
	if err != nil {
		return nil, schema.Table{}, err
	}
	m, err := schema.Bind[Record](pr.Table)
	if err != nil {
		return nil, schema.Table{}, fmt.Errorf("spec: stream %q: %w", name, err)
	}
	s, err := dest.Open(ctx, m)
	if err != nil {
		return nil, schema.Table{}, err
	}
	b.closers = append(b.closers, s.Close)
	return s, pr.Table, nil
}

// watched is a paginator of a stream whose table is fixed, which says,
// once a field, that records hold a field the table has no column for:
// its values are left out.
type watched struct {
	p      paginate.Paginator[Record]
	w      *fieldWatch
	stream string
}

// fieldWatch remembers the fields of a fixed table, and those already
// warned of.
type fieldWatch struct {
	log    *slog.Logger
	table  string
	mu     sync.Mutex
	known  map[string]bool
	warned map[string]bool
}

func newFieldWatch(t schema.Table, log *slog.Logger) *fieldWatch {
	w := &fieldWatch{log: log, table: t.Name, known: make(map[string]bool), warned: make(map[string]bool)}
	for _, c := range t.Columns {
		w.known[c.Name] = true
	}
	return w
}

func (w *fieldWatch) check(stream string, items []Record) {
	for i := range items {
		for name, v := range items[i].Fields() {
			if w.known[name] || string(v) == "null" {
				continue
			}
			w.mu.Lock()
			first := !w.warned[name]
			w.warned[name] = true
			w.mu.Unlock()
			if first && w.log != nil {
				w.log.Warn("spec: records hold a field the stream's table has no column for, so its values are left out; declare it in the spec's table.columns",
					"stream", stream, "table", w.table, "field", name)
			}
		}
	}
}

func (p *watched) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[Record], error) {
	page, err := p.p.Fetch(ctx, pos)
	if err == nil {
		p.w.check(p.stream, page.Items)
	}
	return page, err
}

// watch wraps p in a paginator that warns of fields w does not know, and
// keeps what the runner asks of p besides Fetch (see package forward).
func watch(p paginate.Paginator[Record], w *fieldWatch, stream string) paginate.Paginator[Record] {
	wp := &watched{p: p, w: w, stream: stream}
	return forward.Paginator(p, wp.Fetch)
}
