// Package forward builds pagekit's wrappers of paginators and destinations
// so that they keep what they wrap offers besides its core methods.
//
// paginate.Run and the connector find a paginator's and a destination's
// optional capabilities by type assertion: a paginator's Identity,
// Validate, Describe (the drift detection Run turns on by itself) and Plan
// (parallel fetches); a destination's Key (paginate.Keyer), the keys of a
// sync in progress (paginate.KeyStore), its Identity, its Table
// (connector.Tabler), its stream locks (connector.Unlocker) and whether it
// restarts streams saved by other settings (paginate.RestartingStore). A
// wrapper
// that lacks one of them hides it, and the run quietly loses what it gave:
// a resumed sync counts as drifted, a sync by position is unprotected, a
// checkpoint no longer names its table. Every such wrapper in pagekit is
// built here, so that a capability added to the runner is forwarded in one
// place.
//
// Where having a method changes what the runner does (Describe, Plan,
// Key, Table), the wrapper has it only when the wrapped value does; the
// others (Identity, Validate, SaveKeys and LoadKeys, Unlock,
// RestartsStreams) are always there and do what the wrapped value's would,
// or nothing when it has none: a resumed run that loads no keys from a store that keeps none
// counts as drifted, as it would without the wrapper.
package forward

import (
	"context"
	"iter"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// Paginator returns a paginator whose Fetch is fetch, with p's Identity
// and Validate, and p's Describe and Plan when p has them.
func Paginator[T any](p paginate.Paginator[T], fetch paginate.PaginatorFunc[T]) paginate.Paginator[T] {
	f := &paginator[T]{p: p, fetch: fetch}
	pl, plans := p.(paginate.Planner)
	d, describes := p.(paginate.Describer)
	switch {
	case plans && describes:
		return &planDescriber[T]{planner: planner[T]{paginator: f, pl: pl}, d: d}
	case plans:
		return &planner[T]{paginator: f, pl: pl}
	case describes:
		return &describer[T]{paginator: f, d: d}
	}
	return f
}

type paginator[T any] struct {
	p     paginate.Paginator[T]
	fetch paginate.PaginatorFunc[T]
}

func (f *paginator[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	return f.fetch(ctx, pos)
}

func (f *paginator[T]) Identity() paginate.Identity { return Identity(f.p) }

func (f *paginator[T]) Validate() error {
	if v, ok := f.p.(paginate.Validator); ok {
		return v.Validate()
	}
	return nil
}

type planner[T any] struct {
	*paginator[T]
	pl paginate.Planner
}

func (f *planner[T]) Plan(pos paginate.Position, first paginate.PageInfo) iter.Seq[paginate.Position] {
	return f.pl.Plan(pos, first)
}

type describer[T any] struct {
	*paginator[T]
	d paginate.Describer
}

func (f *describer[T]) Describe() paginate.Description { return f.d.Describe() }

type planDescriber[T any] struct {
	planner[T]
	d paginate.Describer
}

func (f *planDescriber[T]) Describe() paginate.Description { return f.d.Describe() }

// Destination is what a wrapper of a destination implements itself: the
// sink, committer and store it wraps, with SaveKeys, LoadKeys, Identity,
// Unlock and RestartsStreams, which it can forward with the functions of
// this package.
type Destination[T any] interface {
	paginate.Sink[T]
	paginate.Committer[T]
	paginate.KeyStore
	paginate.RestartingStore
	paginate.Identifier
	Unlock(ctx context.Context, stream string) error
}

// Sink returns w with dst's Key when dst is a paginate.Keyer[T], and
// dst's Table when dst tells its table (connector.Tabler), each only then.
func Sink[T any](w Destination[T], dst any) Destination[T] {
	k, keyer := dst.(paginate.Keyer[T])
	t, table := dst.(tabler)
	switch {
	case keyer && table:
		return &keyTableSink[T]{Destination: w, k: k, t: t}
	case keyer:
		return &keySink[T]{Destination: w, k: k}
	case table:
		return &tableSink[T]{Destination: w, t: t}
	}
	return w
}

// tabler is connector.Tabler, which this package cannot import: the
// connector wraps its paginators here.
type tabler interface {
	Table() schema.Table
}

type keySink[T any] struct {
	Destination[T]
	k paginate.Keyer[T]
}

func (s *keySink[T]) Key(item T) string { return s.k.Key(item) }

type tableSink[T any] struct {
	Destination[T]
	t tabler
}

func (s *tableSink[T]) Table() schema.Table { return s.t.Table() }

type keyTableSink[T any] struct {
	Destination[T]
	k paginate.Keyer[T]
	t tabler
}

func (s *keyTableSink[T]) Key(item T) string   { return s.k.Key(item) }
func (s *keyTableSink[T]) Table() schema.Table { return s.t.Table() }

// Identity returns x's identity when x is a paginate.Identifier, nil
// otherwise.
func Identity(x any) paginate.Identity {
	if id, ok := x.(paginate.Identifier); ok {
		return id.Identity()
	}
	return nil
}

// SaveKeys keeps the keys of a page of stream's sync in st when st is a
// paginate.KeyStore, and does nothing otherwise.
func SaveKeys(ctx context.Context, st any, stream string, items int64, keys []uint64) error {
	if ks, ok := st.(paginate.KeyStore); ok {
		return ks.SaveKeys(ctx, stream, items, keys)
	}
	return nil
}

// LoadKeys returns the keys of stream's sync that st keeps when st is a
// paginate.KeyStore, and none otherwise.
func LoadKeys(ctx context.Context, st any, stream string, upTo int64) ([]uint64, error) {
	if ks, ok := st.(paginate.KeyStore); ok {
		return ks.LoadKeys(ctx, stream, upTo)
	}
	return nil, nil
}

// RestartsStreams reports whether st restarts the streams whose
// checkpoints other settings saved (paginate.RestartingStore), as a
// platform's store does; false when st is not such a store.
func RestartsStreams(st any) bool {
	rs, ok := st.(paginate.RestartingStore)
	return ok && rs.RestartsStreams()
}

// Unlock releases dst's lock of stream when dst locks streams
// (connector.Unlocker), and does nothing otherwise.
func Unlock(ctx context.Context, dst any, stream string) error {
	if u, ok := dst.(interface {
		Unlock(ctx context.Context, stream string) error
	}); ok {
		return u.Unlock(ctx, stream)
	}
	return nil
}
