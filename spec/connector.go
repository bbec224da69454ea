package spec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/dynamic"
)

// A Destination is where the tables of a spec go (see package
// sink/dynamic): it opens the sink of each stream's table.
type Destination = dynamic.Opener

// Settings are what a run of a spec takes from the command line rather
// than from the spec: the zero value runs the spec as it is.
type Settings struct {
	// Streams selects the streams to build; empty means all. A child
	// stream brings its parent's paginator, not its table.
	Streams []string
	// Restart starts a stream over when its checkpoint was saved by other
	// settings (paginate.Options.Restart): from its last completed sync
	// when only the paging changed, else from the start.
	Restart bool
	// MaxItems stops each stream's runs after that many records, when the
	// spec gives none.
	MaxItems int64
	// Concurrency replaces each stream's options.concurrency when set.
	Concurrency int
	// Timeout replaces each stream's header and idle timeouts when set.
	Timeout time.Duration
	// Logger and Observe are the connector's (connector.Config).
	Logger  *slog.Logger
	Observe func(connector.Event)
	// Static fixes each stream's table when the build is made: the
	// declared columns and those of the stream's first page (see Probe,
	// one request or a few for a child stream), and gives the connector
	// the destination's sinks as they are, as the platform protocols need
	// (their catalogs are fixed, and they find their sinks in the
	// connector). Values of fields that the table has no column for are
	// left out, with a warning, once a field, to Logger.
	Static bool
}

// Build is a spec made into the library's values: the connector of its
// streams, each stream's table in a destination.
type Build struct {
	// Connector runs the streams.
	Connector *connector.Connector
	// Limiter is the connector's, whose client sends every request.
	Limiter *connector.Limiter

	spec     *Spec
	set      Settings
	selected []string
	comp     map[string]*compiled
	tables   map[string]*dynamic.Table
	sinks    map[string]paginate.Sink[Record]
	closers  []func() error
}

// Build makes the spec's selected streams into a connector whose streams
// write their tables into dest. Close the Build when done, which closes
// the tables.
func (s *Spec) Build(ctx context.Context, dest Destination, set Settings) (*Build, error) {
	b := &Build{spec: s, set: set, comp: make(map[string]*compiled), tables: make(map[string]*dynamic.Table), sinks: make(map[string]paginate.Sink[Record])}
	sel, err := s.selection(set.Streams)
	if err != nil {
		return nil, err
	}
	b.selected = sel
	b.Limiter = connector.NewLimiter(connector.Limits{InFlight: s.Limits.InFlight, Rate: s.Limits.Rate, Burst: s.Limits.Burst,
		MaxPause: time.Duration(s.Limits.MaxPause)})
	if err := b.build(ctx, dest); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// selection returns the names of the streams to build: those named and
// the parents of the children among them, in the spec's order.
func (s *Spec) selection(names []string) ([]string, error) {
	if len(names) == 0 {
		var all []string
		for _, st := range s.Streams {
			all = append(all, st.Name)
		}
		return all, nil
	}
	want := make(map[string]bool)
	for _, n := range names {
		st := s.Stream(n)
		if st == nil {
			var have []string
			for _, st := range s.Streams {
				have = append(have, st.Name)
			}
			return nil, fmt.Errorf("spec: no stream is named %q; the spec has %s", n, strings.Join(have, ", "))
		}
		want[n] = true
		if st.Parent != nil {
			want[st.Parent.Stream] = true
		}
	}
	var out []string
	for _, st := range s.Streams {
		if want[st.Name] {
			out = append(out, st.Name)
		}
	}
	return out, nil
}

// Stream returns the stream named name, or nil.
func (s *Spec) Stream(name string) *Stream {
	for i := range s.Streams {
		if s.Streams[i].Name == name {
			return &s.Streams[i]
		}
	}
	return nil
}

func (b *Build) build(ctx context.Context, dest Destination) error {
	s := b.spec
	byName := make(map[string]*connector.Stream)
	var streams []*connector.Stream
	for _, name := range b.selected {
		st := s.Stream(name)
		c, err := s.compile(st, b.Limiter.Client())
		if err != nil {
			return err
		}
		if b.set.Timeout > 0 {
			c.limits.Timeouts.Header, c.limits.Timeouts.Idle = b.set.Timeout, b.set.Timeout
		}
		b.comp[name] = c
		dst, err := b.sink(ctx, dest, st)
		if err != nil {
			return err
		}
		b.sinks[name] = dst
		opts := b.options(st)
		var cs *connector.Stream
		if st.Parent == nil {
			p, err := c.paginator(nil)
			if err != nil {
				return err
			}
			if c.watch != nil {
				p = watch(p, c.watch, name)
			}
			cs = connector.NewStream(name, p, dst, opts)
		} else {
			cs = connector.NewChild(name, b.childOf(st, byName[st.Parent.Stream]), dst, opts)
		}
		byName[name] = cs
		streams = append(streams, cs)
	}
	conn, err := connector.New(connector.Config{Limiter: b.Limiter, Logger: b.set.Logger, Observe: b.set.Observe}, streams...)
	if err != nil {
		return err
	}
	b.Connector = conn
	return nil
}

// sink returns the destination of the stream st: a dynamic.Table whose
// columns grow with the records, or, with Settings.Static, the
// destination's sink of the table fixed now.
func (b *Build) sink(ctx context.Context, dest Destination, st *Stream) (paginate.Sink[Record], error) {
	name := st.Name
	if b.set.Static {
		s, tbl, err := b.staticSink(ctx, dest, name)
		if err != nil {
			return nil, err
		}
		b.comp[name].watch = newFieldWatch(tbl, b.set.Logger)
		return s, nil
	}
	tbl, err := st.table()
	if err != nil {
		return nil, err
	}
	t, err := dynamic.New(dest, tbl)
	if err != nil {
		return nil, fmt.Errorf("spec: stream %q: %w", name, err)
	}
	b.tables[name] = t
	if !b.runs(name) {
		return t, nil
	}
	// A stream that runs opens its table now, so that the sink it gives
	// the runner says whether it keeps keys.
	s, err := t.Sink(ctx)
	if err != nil {
		return nil, fmt.Errorf("spec: stream %q: open its table: %w", name, err)
	}
	return s, nil
}

// runs reports whether the stream name was asked for, rather than built
// as a child's parent.
func (b *Build) runs(name string) bool {
	return len(b.set.Streams) == 0 || slices.Contains(b.set.Streams, name)
}

// Streams returns the names of the streams the settings selected.
func (b *Build) Streams() []string {
	var out []string
	for _, n := range b.selected {
		if b.runs(n) {
			out = append(out, n)
		}
	}
	return out
}

// options returns a stream's run options: the spec's, and the settings'.
func (b *Build) options(st *Stream) paginate.Options[Record] {
	opts := b.spec.options(st)
	if b.set.Static {
		// The destination's sink may know no key: the runner takes it
		// from the spec.
		opts.Key = b.comp[st.Name].key()
	}
	opts.Restart = b.set.Restart
	if opts.Limits.MaxItems == 0 {
		opts.Limits.MaxItems = b.set.MaxItems
	}
	if b.set.Concurrency > 0 {
		opts.Concurrency = b.set.Concurrency
	}
	return opts
}

// childOf says how a child stream's partitions come from its parent's
// records.
func (b *Build) childOf(st *Stream, parent *connector.Stream) connector.ChildOf[Record, Record] {
	p := st.Parent
	keyFields := []string{p.Key}
	if p.Key == "" {
		keyFields = b.spec.Stream(p.Stream).Table.PrimaryKey
	}
	c := b.comp[st.Name]
	return connector.ChildOf[Record, Record]{
		Parent: parent,
		Every:  p.Every,
		Key: func(r Record) string {
			parts := make([]string, len(keyFields))
			for i, f := range keyFields {
				parts[i] = r.Text(f)
				if parts[i] == "" {
					return ""
				}
			}
			return strings.Join(parts, ",")
		},
		Paginator: func(r Record) (paginate.Paginator[Record], error) {
			vals := make(map[string]string, len(p.PathValues))
			for name, field := range p.PathValues {
				v := r.Text(field)
				if v == "" {
					return nil, fmt.Errorf("the parent record has no %s for {%s}", field, name)
				}
				vals[name] = v
			}
			p, err := c.paginator(vals)
			if err == nil && c.watch != nil {
				p = watch(p, c.watch, st.Name)
			}
			return p, err
		},
	}
}

// Run runs the top-level stream name on its own, as paginate.Run does,
// with the spec's options and the settings', and logger and observe for
// its Options.Logger and Observe: a run of one stream, shown as one. Its
// requests go through the Limiter's client.
func (b *Build) Run(ctx context.Context, name string, logger *slog.Logger, observe func(paginate.Event)) (paginate.Result, error) {
	c, ok := b.comp[name]
	if !ok || c.st.Parent != nil {
		return paginate.Result{}, fmt.Errorf("spec: %q is not a top-level stream of the build", name)
	}
	p, err := c.paginator(nil)
	if err != nil {
		return paginate.Result{}, err
	}
	opts := b.options(c.st)
	opts.Logger, opts.Observe = logger, observe
	return paginate.Run(ctx, p, b.sinks[name], opts)
}

// Table returns the table of the stream name, whose columns are those
// known so far.
func (b *Build) Table(name string) *dynamic.Table { return b.tables[name] }

// Close closes the streams' tables.
func (b *Build) Close() error {
	var errs []error
	for _, t := range b.tables {
		errs = append(errs, t.Close())
	}
	for _, c := range b.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// Spec returns the spec the build was made from.
func (b *Build) Spec() *Spec { return b.spec }
