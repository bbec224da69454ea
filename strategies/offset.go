package strategies

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"

	"github.com/pagekit/pagekit/paginate"
)

// Offset is a paginator for APIs that take a record offset and a limit,
// such as ?offset=100&limit=50, or ?_start=100&_limit=50 (json-server). The
// offset advances by the records actually received, never by the limit
// asked for, so a server that caps the page size loses nothing. It is also
// a [paginate.Planner] once the first page reports a total.
//
// It stops as every strategy does (see "How a sync ends" in the package
// documentation), at MaxOffset with StopDepthLimit. An empty page below the
// total items steps over Size records, unless Response.EmptyPageEnds says
// it ends the data; without Size, or with Overlap, it ends the sync.
//
// With Overlap, a page that finds none of the previous page's last records
// may have skipped some: it reports paginate.DriftOverlap, and the sync
// does not advance Since. Positions then carry those keys, so an
// overlapping Offset does not plan parallel fetches.
//
// The zero Position is offset 0; Next is the offset after this page's
// records. Configure it before the first Fetch and do not change it
// afterwards.
type Offset[T any] struct {
	// Request is what every request is built from.
	Request Request
	// Response is where a response keeps its records and totals.
	Response Shape[T]
	// Window is the incremental window, if any.
	Window Window[T]
	// Limits bound what a page may cost.
	Limits Limits

	// Size is the page size to ask for; zero sends none.
	Size int
	// SizeParam is where Size goes; the zero Param is the query
	// parameter "limit", and Param{In: Nowhere} sends nothing.
	SizeParam Param

	// OffsetParam is where the offset goes; the zero Param is the query
	// parameter "offset".
	OffsetParam Param
	// MaxOffset, when positive, is an offset the run does not go past,
	// such as an API's depth limit of 10000; the run ends with
	// StopDepthLimit when the next offset would reach it.
	MaxOffset int64

	// Overlap, when positive, starts every page after the first Overlap
	// records early, to find the last records of the page before by
	// OverlapKey and go on right after them: records shifted by fewer
	// than Overlap places are neither skipped nor repeated (see
	// docs/consistency.md).
	Overlap int
	// OverlapKey returns a record's identity at its version, such as its
	// id and updatedAt. Overlap needs it.
	OverlapKey func(T) string

	lazy lazy[T]
}

func (o *Offset[T]) parts() parts[T] {
	return parts[T]{&o.Request, &o.Response, &o.Window, &o.Limits, o.Size, o.SizeParam}
}

// offsetToken is what an offset position's Token carries: the window's
// end and the overlap's keys. Keys alone are stored as a JSON array, the
// window's end alone as it is.
type offsetToken struct {
	U string   `json:"u,omitempty"`
	A []string `json:"a,omitempty"`
}

func (t offsetToken) String() (string, error) {
	var b []byte
	var err error
	switch {
	case t.U == "" && len(t.A) == 0:
		return "", nil
	case len(t.A) == 0:
		return t.U, nil
	case t.U == "":
		b, err = json.Marshal(t.A)
	default:
		b, err = json.Marshal(t)
	}
	return string(b), err
}

func parseOffsetToken(s string) (offsetToken, bool) {
	var t offsetToken
	switch {
	case s == "":
		return t, true
	case s[0] == '[':
		return t, json.Unmarshal([]byte(s), &t.A) == nil && len(t.A) > 0
	case s[0] == '{':
		return t, json.Unmarshal([]byte(s), &t) == nil
	}
	t.U = s
	return t, true
}

func (o *Offset[T]) state() (*state[T], error) { return o.lazy.get(o.compile) }

func (o *Offset[T]) compile() (*state[T], error) {
	switch {
	case o.MaxOffset < 0 || o.Overlap < 0:
		return nil, fmt.Errorf("%w: Offset MaxOffset and Overlap must not be negative", ErrConfig)
	case o.Overlap > 0 && (o.OverlapKey == nil || o.Size == 0):
		return nil, fmt.Errorf("%w: Offset.Overlap needs OverlapKey and Size", ErrConfig)
	case o.OffsetParam.In == Nowhere:
		return nil, fmt.Errorf("%w: Offset must send the offset", ErrConfig)
	}
	params := o.parts().params()
	params[rolePos] = o.offsetParam()
	st, err := compileState(o.parts(), params, [numRoles]bool{roleSize: true, rolePos: true}, InQuery, "", "", "", "")
	return byDefault(st, err, o.OffsetParam, params[rolePos], "Offset.OffsetParam")
}

func (o *Offset[T]) offsetParam() Param { return o.OffsetParam.or(Query("offset")) }

// Describe says that Offset reads by position, unless Overlap checks for
// shifts itself or the records come newest first (a change then moves
// them before the position: one may come twice, none is skipped), and
// whether its requests send the sync's Since (SinceParam, or
// NewestFirst), so that paginate.Run tracks the keys of an incremental
// sync that needs it (see paginate.Describer).
func (o *Offset[T]) Describe() paginate.Description {
	return paginate.Description{ByPosition: o.Overlap <= 0 && o.Window.NewestFirst == nil, SendsSince: o.Window.sendsSince()}
}

// Validate reports what is wrong with the configuration, as the first
// Fetch would; paginate.Run calls it before the first request.
func (o *Offset[T]) Validate() error { return o.lazy.validate(o.compile) }

// Fetch fetches the page at pos.Offset.
func (o *Offset[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	st, err := o.state()
	if err != nil {
		return paginate.Page[T]{}, err
	}
	tok, ok := parseOffsetToken(pos.Token)
	if pos.Page != 0 || pos.Offset < 0 || !ok || len(tok.A) > 0 && o.Overlap <= 0 || tok.U != "" && !o.Window.keepsEnd() {
		return paginate.Page[T]{}, badPosition("offset", pos)
	}
	anchors := tok.A
	// back is how many records before pos.Offset are read again.
	back := min(int64(len(anchors)), pos.Offset)
	from := pos.Offset - back
	var vals [numRoles]string
	end, err := o.Window.bounds(&vals, pos, tok.U)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	if o.Size > 0 {
		vals[roleSize] = strconv.Itoa(o.Size + int(back))
	}
	vals[rolePos] = strconv.FormatInt(from, 10)
	_, r, err := st.fetch(ctx, vals, nil, "", nil, o.Size+int(back))
	if err != nil {
		return paginate.Page[T]{}, err
	}
	raw, below, err := o.Window.cut(r.Items, pos)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	out := paginate.Page[T]{Items: raw, TotalItems: r.TotalItems}
	if back > 0 {
		// Go on after the last of the previous page's records found: the
		// records before it were delivered already, wherever they moved.
		last := -1
		seen := make(map[string]bool, len(anchors))
		for _, a := range anchors {
			seen[a] = true
		}
		for i := range raw {
			if seen[o.OverlapKey(raw[i])] {
				last = i
			}
		}
		switch {
		case last < 0, last == len(raw)-1 && len(raw) == o.Size+int(back):
			// None of them, or nothing after them in a full window:
			// records shifted by more than the overlap, or a server
			// that serves one page again. Deliver it all, so that a
			// repeat is caught as a loop.
			out.Drift = paginate.DriftOverlap
		default:
			out.Items = raw[last+1:]
		}
	}
	if len(out.Items) == len(r.Items) {
		// The raw records' fingerprint, unless some were cut off (the
		// overlap, or those below the window): then the runner
		// fingerprints the records delivered.
		out.Fingerprint = r.print
	}
	next := from + int64(len(r.Items))
	// An empty page the totals say is not the end is stepped over by
	// Size; with Overlap the next page must find this one's records.
	step := len(out.Items) > 0 || o.Size > 0 && o.Overlap == 0
	if len(out.Items) == 0 && step {
		next = pos.Offset + int64(o.Size)
	}
	tot := totalsUnknown
	switch {
	case r.TotalItems > 0 && next >= r.TotalItems:
		tot = totalsReached
	case r.TotalItems > 0 && step:
		tot = totalsMore
	}
	out.Stop = o.Response.stop(ending{
		below:   below,
		hasMore: r.HasMore,
		totals:  tot,
		empty:   len(out.Items) == 0,
		depth:   o.MaxOffset > 0 && next >= o.MaxOffset,
		short:   o.Size > 0 && len(r.Items)-int(back) < o.Size,
	})
	if out.Stop == paginate.StopNone {
		out.More = true
		out.Next = paginate.Position{Offset: next}
		nt := offsetToken{}
		if o.Window.keepsEnd() {
			nt.U = end
		}
		if o.Overlap > 0 {
			k := min(o.Overlap, len(raw))
			nt.A = make([]string, 0, k)
			for _, it := range raw[len(raw)-k:] {
				nt.A = append(nt.A, o.OverlapKey(it))
			}
		}
		if out.Next.Token, err = nt.String(); err != nil {
			return paginate.Page[T]{}, paginate.Permanent(fmt.Errorf("encoding the overlap keys: %w", err))
		}
	}
	o.Window.closeWindow(&out, pos, tok.U, end)
	return out, nil
}

// Plan returns the offsets of the pages after first, the page fetched at
// pos, up to the total items, stepping by the number of items first held:
// the page size the server really uses, even when it capped the limit asked
// for. It returns nil when first is the last page or when no total is
// known. The plan is lazy: a total that lies high costs no memory.
func (o *Offset[T]) Plan(pos paginate.Position, first paginate.PageInfo) iter.Seq[paginate.Position] {
	if _, err := o.state(); err != nil || o.Overlap > 0 || !first.More || first.Items <= 0 || first.TotalItems <= 0 {
		return nil
	}
	end := first.TotalItems
	if o.MaxOffset > 0 {
		end = min(end, o.MaxOffset)
	}
	stride := int64(first.Items)
	from := first.Next.Offset
	if from >= end {
		return nil
	}
	tok := first.Next.Token // the window's end, which every page carries
	return func(yield func(paginate.Position) bool) {
		for off := from; off < end; off += stride {
			if !yield(paginate.Position{Offset: off, Token: tok}) {
				return
			}
		}
	}
}
