package strategies

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/pagekit/pagekit/paginate"
)

// Cursor is a keyset paginator: the next request's cursor comes from the
// last record of the page, such as ?starting_after=<last id> (Stripe) or
// ?updated_since=<last updatedAt>. It stops as every strategy does (see
// "How a sync ends" in the package documentation); an empty page always
// ends it, since a cursor comes from the page's last record.
//
// A server whose filter is exclusive (> the cursor) needs nothing more. A
// server whose filter is inclusive (>=) sends the records that share the
// boundary value again; with Inclusive set, the paginator drops those it has
// already delivered, by Key, and delivers the others, so that no record is
// lost or repeated. The keys delivered at the boundary travel in the
// position, so a resume from a checkpoint drops them too. When more records
// share one value than a page holds, no inclusive request can get past
// them: Fetch then fails with ErrTieTooLarge instead of looping. The cure
// is a tie-breaker the server understands, which Params can send: a compound
// cursor such as updated_since=<ts>&after_id=<id>.
//
// With Inclusive, Size is also the page size the server is expected to
// return when more records follow, so that a page of fewer records all at
// the cursor value ends the data while a full one is a tie too large; a
// smaller size the server is seen to cap at is learned, but set Size no
// larger than the server's real maximum. A SizeParam of Nowhere says the
// server's page size is fixed at Size. When Window.SinceParam is
// CursorParam, the lower bound is the cursor's first value (updated_since
// as both filter and cursor). Response.ShortPageEnds also ends an
// inclusive cursor over a source that changes before every request, which
// would otherwise always find a record newer than the last.
//
// The zero Position is the first page; later positions hold the cursor in
// Token, as JSON. Configure it before the first Fetch and do not change it
// afterwards.
type Cursor[T any] struct {
	// Request is what every request is built from.
	Request Request
	// Response is where a response keeps its records.
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

	// CursorParam is where the cursor goes, such as
	// Query("starting_after") or Body("search.after").
	CursorParam Param
	// Value returns a record's cursor value; the next request sends the
	// last record's at CursorParam. An empty value is an error.
	Value func(T) string
	// Params, when set, replaces Value for a compound cursor: it returns
	// all the cursor parameters of the next request from the last
	// record, placed where CursorParam.In says. It cannot be Inclusive.
	Params func(last T) url.Values

	// Inclusive says the server's filter includes the cursor value (>=).
	// It needs Value, Key and Size.
	Inclusive bool
	// Key returns a record's identity, such as its primary key.
	Key func(T) string

	lazy lazy[T]
}

func (c *Cursor[T]) parts() parts[T] {
	return parts[T]{&c.Request, &c.Response, &c.Window, &c.Limits, c.Size, c.SizeParam}
}

// cursorToken is a cursor position, stored as JSON in Position.Token.
type cursorToken struct {
	V string     `json:"v,omitempty"` // the value sent at CursorParam
	P url.Values `json:"p,omitempty"` // the parameters sent, from Params
	K []string   `json:"k,omitempty"` // keys delivered at value V (Inclusive)
	N int        `json:"n,omitempty"` // records in the response before (Inclusive)
	C int        `json:"c,omitempty"` // the page size the server caps at, once seen (Inclusive)
	U string     `json:"u,omitempty"` // the window's end
}

func (c *Cursor[T]) state() (*state[T], error) { return c.lazy.get(c.compile) }

func (c *Cursor[T]) compile() (*state[T], error) {
	switch {
	case c.Params == nil && (!c.CursorParam.sent() || c.Value == nil):
		return nil, fmt.Errorf("%w: Cursor needs CursorParam and Value, or Params", ErrConfig)
	case c.Params != nil && c.Inclusive:
		return nil, fmt.Errorf("%w: Cursor.Params is a compound cursor for an exclusive filter; it cannot be Inclusive", ErrConfig)
	case c.Inclusive && (c.Key == nil || c.Size <= 0):
		return nil, fmt.Errorf("%w: an Inclusive Cursor needs Key, to drop the records it delivered, and Size, to tell the end of the data from a page of ties", ErrConfig)
	case c.Params != nil && c.CursorParam.In == InPath:
		return nil, fmt.Errorf("%w: Cursor.Params cannot go in the path", ErrConfig)
	}
	params := c.parts().params()
	if c.sinceIsCursor() {
		params[roleSince] = Param{}
	}
	if c.Params == nil {
		params[rolePos] = c.CursorParam
	}
	return compileState(c.parts(), params, [numRoles]bool{roleSize: true}, c.CursorParam.In, "", "", "", "")
}

// sinceIsCursor reports whether the since bound is the cursor's first
// value.
func (c *Cursor[T]) sinceIsCursor() bool {
	return c.Params == nil && c.CursorParam.sent() && c.Window.SinceParam == c.CursorParam
}

// Describe says that Cursor reads after the last record, not by
// position, and whether its requests send the sync's Since (SinceParam,
// the cursor when it is SinceParam, or NewestFirst; see
// paginate.Describer).
func (c *Cursor[T]) Describe() paginate.Description {
	return paginate.Description{SendsSince: c.Window.sendsSince()}
}

// Validate reports what is wrong with the configuration, as the first
// Fetch would; paginate.Run calls it before the first request.
func (c *Cursor[T]) Validate() error { return c.lazy.validate(c.compile) }

// Fetch fetches the page after the cursor in pos.Token, or the first page.
func (c *Cursor[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	st, err := c.state()
	if err != nil {
		return paginate.Page[T]{}, err
	}
	var tok cursorToken
	if pos.Page != 0 || pos.Offset != 0 {
		return paginate.Page[T]{}, badPosition("cursor", pos)
	}
	if pos.Token != "" {
		if err := json.Unmarshal([]byte(pos.Token), &tok); err != nil {
			return paginate.Page[T]{}, badPosition("cursor", pos)
		}
	} else if c.sinceIsCursor() {
		if tok.V, err = c.Window.lower(pos); err != nil {
			return paginate.Page[T]{}, err
		}
	}

	var vals [numRoles]string
	end, err := c.Window.bounds(&vals, pos, tok.U)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	if c.Window.SinceParam.sent() && tok.P.Has(c.Window.SinceParam.Name) {
		vals[roleSince] = "" // the compound cursor carries it
	}
	vals[roleSize] = c.parts().sizeValue()
	var extra []kv
	if c.Params == nil {
		vals[rolePos] = tok.V
	} else {
		for _, k := range slices.Sorted(maps.Keys(tok.P)) {
			for _, v := range tok.P[k] {
				extra = append(extra, kv{k, v})
			}
		}
	}
	resp, r, err := st.fetch(ctx, vals, extra, "", nil, c.Size)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	out, err := c.page(resp, r, pos, tok, end)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	c.Window.closeWindow(&out, pos, tok.U, end)
	return out, nil
}

// page reads the page r, the response resp to a fetch at pos with the
// cursor tok, in a window that ends at end: its records, and the cursor
// of the next page or why there is none.
func (c *Cursor[T]) page(resp *http.Response, r Response[T], pos paginate.Position, tok cursorToken, end string) (paginate.Page[T], error) {
	raw, below, err := c.Window.cut(r.Items, pos)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	items := raw
	if c.Inclusive && len(tok.K) > 0 {
		items = c.dropDelivered(raw, tok)
	}
	out := paginate.Page[T]{Items: items, TotalItems: r.TotalItems, TotalPages: r.TotalPages}
	if len(raw) > 0 && len(items) == len(r.Items) {
		// The raw records' fingerprint, unless some were dropped: then
		// the runner fingerprints those delivered.
		out.Fingerprint = r.print
	}
	e := ending{below: below, hasMore: r.HasMore, empty: len(raw) == 0, short: c.Size > 0 && len(raw) < c.Size}
	if below || len(raw) == 0 {
		out.Stop = c.Response.stop(e)
		return out, nil
	}
	next, tie, err := c.next(resp, raw, items, tok, end)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	if tie {
		// The whole page is at the value just asked for: the next
		// request would be this one again. Fewer than a page were all
		// the records left; a full page is a tie too large.
		e.last = len(raw) < c.capacity(tok, items)
	}
	if out.Stop = c.Response.stop(e); out.Stop != paginate.StopNone {
		return out, nil
	}
	if tie {
		return paginate.Page[T]{}, responseError(resp, fmt.Errorf(
			"%w: all %d records of the page have %s=%q and the server's filter is inclusive, so the next request would return them again; "+
				"the API needs a tie-breaker (a compound cursor, see Cursor.Params) or a page larger than the tie",
			ErrTieTooLarge, len(raw), c.CursorParam.Name, next.V))
	}
	b, err := json.Marshal(next)
	if err != nil {
		return paginate.Page[T]{}, paginate.Permanent(fmt.Errorf("encoding the cursor: %w", err))
	}
	out.More = true
	out.Next = paginate.Position{Token: string(b)}
	return out, nil
}

// next returns the cursor of the page after raw, the records of a page
// fetched with the cursor tok in a window that ends at end (items those
// not delivered before), and whether the page is all at the value an
// inclusive cursor asked for.
func (c *Cursor[T]) next(resp *http.Response, raw, items []T, tok cursorToken, end string) (cursorToken, bool, error) {
	last := raw[len(raw)-1]
	var next cursorToken
	if c.Window.keepsEnd() {
		next.U = end
	}
	if c.Params != nil {
		next.P = c.Params(last)
		if len(next.P) == 0 {
			return next, false, responseError(resp, errors.New("the Params function returned no parameters for the last record"))
		}
	} else if next.V = c.Value(last); next.V == "" {
		return next, false, responseError(resp, errors.New("the page's last record has an empty cursor value"))
	}
	if !c.Inclusive {
		return next, false, nil
	}
	if next.V == tok.V {
		return next, true, nil
	}
	next.C = c.learned(tok, items)
	next.N = len(raw)
	for i := len(raw) - 1; i >= 0 && c.Value(raw[i]) == next.V; i-- {
		next.K = append(next.K, c.Key(raw[i]))
	}
	slices.Reverse(next.K)
	return next, false, nil
}

// learned returns the page size the server is seen to cap at, from the
// cursor tok of a fetch that delivered items, or zero when none is known.
func (c *Cursor[T]) learned(tok cursorToken, items []T) int {
	if tok.C == 0 && tok.N > 0 && tok.N < c.Size && len(items) > 0 {
		// The last response was short yet more followed: the server
		// caps pages at that size.
		return tok.N
	}
	return tok.C
}

// capacity returns the number of records a page holds when more follow:
// the size the server caps at, once learned, or Size.
func (c *Cursor[T]) capacity(tok cursorToken, items []T) int {
	if l := c.learned(tok, items); l > 0 {
		return l
	}
	return c.Size
}

// dropDelivered returns raw without the records at the boundary value whose
// keys were delivered already. Those lead the page, so the usual result
// shares raw's array.
func (c *Cursor[T]) dropDelivered(raw []T, tok cursorToken) []T {
	seen := make(map[string]bool, len(tok.K))
	for _, k := range tok.K {
		seen[k] = true
	}
	delivered := func(it T) bool { return c.Value(it) == tok.V && seen[c.Key(it)] }
	i := 0
	for i < len(raw) && delivered(raw[i]) {
		i++
	}
	if !slices.ContainsFunc(raw[i:], delivered) {
		return raw[i:]
	}
	return slices.DeleteFunc(slices.Clone(raw[i:]), delivered)
}
