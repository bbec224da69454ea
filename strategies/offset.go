package strategies

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strconv"

	"github.com/pagekit/pagekit/paginate"
)

// Offset is a paginator for APIs that take a record offset and a limit,
// such as ?offset=100&limit=50, or ?_start=100&_limit=50 (json-server). The
// offset advances by the records actually received, never by the limit
// asked for, so a server that caps the page size loses nothing. It is also
// a [paginate.Planner] once the first page reports a total.
//
// It stops on an empty page; on has-more false; when the offset reaches
// the total items (StopTotalReached); at MaxOffset (StopDepthLimit); and on a
// short page only when ShortPageEnds is set.
//
// The zero Position is offset 0; Next is the offset after this page's
// records. Configure it before the first Fetch and do not change it
// afterwards.
type Offset[T any] struct {
	HTTP

	// OffsetParam is the offset's query parameter; empty means "offset".
	OffsetParam string
	// LimitParam is the page size's query parameter; empty means "limit".
	// It is sent only when Limit is positive.
	LimitParam string
	// Limit is the page size to ask for; zero leaves it to the server.
	Limit int

	// SinceParam, when set, is the query parameter of the incremental
	// lower bound: every request sends the position's Since there, or
	// SinceDefault when Since is empty.
	SinceParam   string
	SinceDefault string

	// ItemsPath is the path of the records; empty means the body is the
	// array. TotalItemsPath and HasMorePath are the paths of the total
	// and of a has-more flag; empty ones are not read.
	ItemsPath      string
	TotalItemsPath string
	HasMorePath    string
	// TotalItemsHeader names a response header with the total, such as
	// "X-Total-Count" or "Content-Range", read when the body gave none.
	TotalItemsHeader string

	// Decode, when set, reads responses instead of the paths above (see
	// [Response]).
	Decode func(*http.Response) (Response[T], error)

	// MaxOffset, when positive, is an offset the run does not go past,
	// such as an API's depth limit of 10000; the run ends with
	// StopDepthLimit when the next offset would reach it.
	MaxOffset int64
	// ShortPageEnds says a page with fewer than Limit items is the last.
	ShortPageEnds bool

	// Overlap, when positive, makes every page after the first start
	// Overlap records early (offset-Overlap, limit+Overlap) and check
	// that the records there include the last ones of the previous page,
	// found by OverlapKey. The page then goes on right after the last of
	// them it finds, so that records shifted by fewer than Overlap places
	// while the sync pages, either way, are neither skipped nor delivered
	// twice. When it finds none of them, records may have been skipped:
	// the page reports paginate.DriftOverlap, and the sync does not
	// advance Since. Positions then carry those keys in Token, so an
	// overlapping Offset does not plan parallel fetches.
	Overlap int
	// OverlapKey returns a record's identity at its version, such as its
	// id and updatedAt, so that a record updated since it was delivered
	// is not taken for itself. Overlap needs it.
	OverlapKey func(T) string

	lazy lazy[T]
}

func (o *Offset[T]) state() (*state[T], error) {
	return o.lazy.get(func() (*state[T], error) {
		if o.Limit < 0 || o.MaxOffset < 0 || o.Overlap < 0 {
			return nil, fmt.Errorf("%w: Offset Limit, MaxOffset and Overlap must not be negative", ErrConfig)
		}
		if o.Overlap > 0 && (o.OverlapKey == nil || o.Limit == 0) {
			return nil, fmt.Errorf("%w: Offset.Overlap needs OverlapKey and Limit", ErrConfig)
		}
		c, err := o.HTTP.compile(o.offsetParam(), o.limitParam(), o.SinceParam)
		if err != nil {
			return nil, err
		}
		src, err := sourceSpec[T]{
			paths:       [numSlots]string{o.ItemsPath, o.TotalItemsPath, "", "", o.HasMorePath, ""},
			decode:      o.Decode,
			totalHeader: o.TotalItemsHeader,
		}.compile()
		if err != nil {
			return nil, err
		}
		return &state[T]{c: c, src: src}, nil
	})
}

func (o *Offset[T]) offsetParam() string {
	if o.OffsetParam == "" {
		return "offset"
	}
	return o.OffsetParam
}

func (o *Offset[T]) limitParam() string {
	if o.LimitParam == "" {
		return "limit"
	}
	return o.LimitParam
}

// Fetch fetches the page at pos.Offset.
func (o *Offset[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	st, err := o.state()
	if err != nil {
		return paginate.Page[T]{}, err
	}
	if pos.Page != 0 || pos.Offset < 0 || pos.Token != "" && o.Overlap <= 0 {
		return paginate.Page[T]{}, badPosition("offset", pos)
	}
	var anchors []string
	if pos.Token != "" {
		if err := json.Unmarshal([]byte(pos.Token), &anchors); err != nil || len(anchors) == 0 {
			return paginate.Page[T]{}, badPosition("offset", pos)
		}
	}
	// back is how many records before pos.Offset are read again.
	back := min(int64(len(anchors)), pos.Offset)
	from := pos.Offset - back
	var limit string
	if o.Limit > 0 {
		limit = strconv.Itoa(o.Limit + int(back))
	}
	u := st.c.buildURL(o.SinceParam, since(pos, o.SinceDefault), o.limitParam(), limit,
		o.offsetParam(), strconv.FormatInt(from, 10))
	resp, br, err := st.c.send(ctx, request{method: st.c.method, url: u})
	if err != nil {
		return paginate.Page[T]{}, err
	}
	r, err := st.src.read(resp, br, o.Limit+int(back))
	if err != nil {
		return paginate.Page[T]{}, err
	}
	raw := r.Items
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
		case last < 0, last == len(raw)-1 && len(raw) == o.Limit+int(back):
			// None of them, or nothing after them in a full window:
			// records shifted by more than the overlap, or a server
			// that serves one page again. Deliver it all, so that a
			// repeat is caught as a loop.
			out.Drift = paginate.DriftOverlap
		default:
			out.Items = raw[last+1:]
		}
	}
	if len(out.Items) == len(raw) {
		// The raw records' fingerprint, unless the overlap was cut off:
		// then the runner fingerprints the records delivered.
		out.Fingerprint = r.print
	}
	next := from + int64(len(raw))
	switch {
	case len(out.Items) == 0:
		out.Stop = paginate.StopEmptyPage
	case r.HasMore != nil && !*r.HasMore:
		out.Stop = paginate.StopHasMoreFalse
	case r.TotalItems > 0 && next >= r.TotalItems:
		out.Stop = paginate.StopTotalReached
	case o.MaxOffset > 0 && next >= o.MaxOffset:
		out.Stop = paginate.StopDepthLimit
	case o.ShortPageEnds && o.Limit > 0 && len(raw)-int(back) < o.Limit:
		out.Stop = paginate.StopShortPage
	default:
		out.More = true
		out.Next = paginate.Position{Offset: next}
		if o.Overlap > 0 {
			k := min(o.Overlap, len(raw))
			keys := make([]string, 0, k)
			for _, it := range raw[len(raw)-k:] {
				keys = append(keys, o.OverlapKey(it))
			}
			b, err := json.Marshal(keys)
			if err != nil {
				return paginate.Page[T]{}, paginate.Permanent(fmt.Errorf("encoding the overlap keys: %w", err))
			}
			out.Next.Token = string(b)
		}
	}
	return out, nil
}

// Plan returns the offsets of the pages after first, the page fetched at
// pos, up to the total items, stepping by the number of items first held:
// the page size the server really uses, even when it capped the limit asked
// for. It returns nil when first is the last page or when no total is
// known. The plan is lazy: a total that lies high costs no memory, and the
// run still ends on the first empty page.
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
	return func(yield func(paginate.Position) bool) {
		for off := from; off < end; off += stride {
			if !yield(paginate.Position{Offset: off}) {
				return
			}
		}
	}
}
