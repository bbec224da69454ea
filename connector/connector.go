package connector

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/pagekit/pagekit/sink/schema"
)

// Config configures a [Connector]. The zero value is usable: 16 requests in
// flight, no rate limit, 32 partitions at once, a failing stream leaves the
// others running, no logging.
type Config struct {
	// Limiter holds the limits every stream and partition shares. Nil
	// means NewLimiter(Limits{}). Pass one Limiter to several connectors,
	// or build it first to give its Client to the streams' paginators.
	Limiter *Limiter

	// Runs is how many partitions (top-level streams and partitions of
	// child streams) run at once. Zero means twice the Limiter's
	// in-flight budget, so that the budget stays busy while partitions
	// start and end.
	Runs int

	// FailFast stops every stream at the first failure of a stream or a
	// partition. By default a failure ends only its own stream or
	// partition, and the others run to their end.
	FailFast bool

	// Logger receives the runner's log lines of every stream whose
	// Options.Logger is nil, with a "partition" attribute for a child
	// stream's partitions, and the connector's own lines. Nil means
	// silence.
	Logger *slog.Logger

	// Observe, when set, is called for every Event of every stream.
	// Calls never overlap.
	Observe func(Event)
}

// Connector is a set of named streams run together within shared limits.
// Build it with [New]; it is safe for concurrent use, and a run leaves
// nothing behind but its checkpoints.
type Connector struct {
	cfg     Config
	lim     *Limiter
	streams []*Stream
	byName  map[string]*Stream
}

// ErrUnknownStream reports a stream name a connector does not have.
var ErrUnknownStream = errors.New("connector: no such stream")

// New returns a connector of streams, in the order given, which is the
// order results and discovery list them in. It fails when a stream was
// declared wrong, two streams share a name, or a child's parent is not
// among streams.
func New(cfg Config, streams ...*Stream) (*Connector, error) {
	c := &Connector{cfg: cfg, lim: cfg.Limiter, byName: make(map[string]*Stream)}
	if c.lim == nil {
		c.lim = NewLimiter(Limits{})
	}
	var errs []error
	for _, s := range streams {
		if s == nil {
			errs = append(errs, errors.New("connector: a stream is nil"))
			continue
		}
		if err := validName(s.name); err != nil {
			errs = append(errs, err)
		}
		if s.err != nil {
			errs = append(errs, s.err)
		}
		if _, dup := c.byName[s.name]; dup {
			errs = append(errs, fmt.Errorf("connector: two streams are named %q", s.name))
		}
		c.byName[s.name] = s
		c.streams = append(c.streams, s)
	}
	for _, s := range c.streams {
		if p := s.parent; p != nil && c.byName[p.name] != p {
			errs = append(errs, fmt.Errorf("connector: the parent %q of stream %q is not one of the connector's streams", p.name, s.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// Limiter returns the limiter the connector's streams share.
func (c *Connector) Limiter() *Limiter { return c.lim }

// Streams returns the connector's streams, in order.
func (c *Connector) Streams() []*Stream { return slices.Clone(c.streams) }

// Stream returns the stream named name, or nil.
func (c *Connector) Stream(name string) *Stream { return c.byName[name] }

// select returns the streams named, in the connector's order; every stream
// when names is empty.
func (c *Connector) selectStreams(names []string) ([]*Stream, error) {
	if len(names) == 0 {
		return c.streams, nil
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		if c.byName[n] == nil {
			return nil, fmt.Errorf("%w: %q (the streams are %v)", ErrUnknownStream, n, c.names())
		}
		want[n] = true
	}
	var out []*Stream
	for _, s := range c.streams {
		if want[s.name] {
			out = append(out, s)
		}
	}
	return out, nil
}

func (c *Connector) names() []string {
	out := make([]string, len(c.streams))
	for i, s := range c.streams {
		out[i] = s.name
	}
	return out
}

// A Tabler is a destination that knows the table it writes, such as the
// SQLite, PostgreSQL and memory sinks built from a schema.Mapping.
type Tabler interface {
	Table() schema.Table
}

// StreamInfo describes one stream without syncing it.
type StreamInfo struct {
	// Name is the stream's name; Parent its parent's, empty for a
	// top-level stream.
	Name   string
	Parent string
	// Table is the destination's table, or nil when the destination is
	// not a [Tabler].
	Table *schema.Table
	// Destination is the stream's destination, as given to NewStream or
	// NewChild, for the optional interfaces an adapter asks of it (as
	// Table comes from a Tabler): the platform protocols find their
	// sinks, and the cursor each declares, through it.
	Destination any
}

// Discover lists the connector's streams with their tables, in order,
// without syncing anything.
func (c *Connector) Discover() []StreamInfo {
	out := make([]StreamInfo, len(c.streams))
	for i, s := range c.streams {
		out[i].Name = s.name
		if s.parent != nil {
			out[i].Parent = s.parent.name
		}
		out[i].Destination = s.impl.dest()
		if t, ok := s.impl.dest().(Tabler); ok {
			tbl := t.Table()
			out[i].Table = &tbl
		}
	}
	return out
}
