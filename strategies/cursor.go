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
	"strconv"

	"github.com/pagekit/pagekit/paginate"
)

// Cursor is a keyset paginator: the next request's cursor comes from the
// last record of the page, such as ?starting_after=<last id> (Stripe) or
// ?updated_since=<last updatedAt>. It stops on an empty page or on has-more
// false.
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
// The zero Position is the first page; later positions hold the cursor in
// Token, as JSON. Configure it before the first Fetch and do not change it
// afterwards.
type Cursor[T any] struct {
	HTTP

	// Param is the cursor's query parameter, such as "starting_after".
	Param string
	// Value returns a record's cursor value; the next request sends the
	// last record's in Param. An empty value is an error.
	Value func(T) string
	// Params, when set, replaces Param and Value: it returns all the
	// cursor parameters of the next request from the last record, for a
	// compound cursor. It cannot be combined with Inclusive.
	Params func(last T) url.Values

	// Inclusive says the server's filter includes the cursor value (>=).
	// It needs Value, Key and Size.
	Inclusive bool
	// Key returns a record's identity, such as its primary key.
	Key func(T) string

	// SizeParam is the page size's query parameter; empty means "limit".
	// It is sent only when Size is positive.
	SizeParam string
	// Size is the page size to ask for. With Inclusive it is also the
	// page size the server is expected to return when more records
	// follow, so that a page of fewer records all at the cursor value
	// ends the data while a full one is a tie too large; a smaller size
	// the server is seen to cap at is learned, but set Size no larger
	// than the server's real maximum.
	Size int
	// FixedSize says the server's page size is fixed at Size and takes
	// no size parameter: Size is not sent, but Inclusive still uses it.
	FixedSize bool
	// ShortPageEnds says a page with fewer than Size records is the last,
	// which saves the request that would find nothing new. Set it only for
	// a server known never to cap page sizes below Size. It also ends an
	// inclusive cursor over a source that changes before every request,
	// which would otherwise always find a record newer than the last.
	ShortPageEnds bool

	// SinceParam, when set, is the query parameter of the incremental
	// lower bound; every request sends the position's Since there, or
	// SinceDefault when Since is empty. When SinceParam is Param, the
	// bound is instead the cursor's first value (updated_since as both
	// filter and cursor).
	SinceParam   string
	SinceDefault string

	// ItemsPath is the path of the records; empty means the body is the
	// array. HasMorePath is the path of a has-more flag (Stripe's
	// "has_more"); empty means none.
	ItemsPath   string
	HasMorePath string

	// Decode, when set, reads responses instead of the paths above (see
	// [Response]).
	Decode func(*http.Response) (Response[T], error)

	lazy lazy[T]
}

// cursorToken is a cursor position, stored as JSON in Position.Token.
type cursorToken struct {
	V string     `json:"v,omitempty"` // the value sent in Param
	P url.Values `json:"p,omitempty"` // the parameters sent, from Params
	K []string   `json:"k,omitempty"` // keys delivered at value V (Inclusive)
	N int        `json:"n,omitempty"` // records in the response before (Inclusive)
	C int        `json:"c,omitempty"` // the page size the server caps at, once seen (Inclusive)
}

func (c *Cursor[T]) state() (*state[T], error) {
	return c.lazy.get(func() (*state[T], error) {
		switch {
		case c.Params == nil && (c.Param == "" || c.Value == nil):
			return nil, fmt.Errorf("%w: Cursor needs Param and Value, or Params", ErrConfig)
		case c.Params != nil && c.Inclusive:
			return nil, fmt.Errorf("%w: Cursor.Params is a compound cursor for an exclusive filter; it cannot be Inclusive", ErrConfig)
		case c.Inclusive && (c.Key == nil || c.Size <= 0):
			return nil, fmt.Errorf("%w: an Inclusive Cursor needs Key, to drop the records it delivered, and Size, to tell the end of the data from a page of ties", ErrConfig)
		case c.Size < 0:
			return nil, fmt.Errorf("%w: Cursor.Size must not be negative", ErrConfig)
		}
		cl, err := c.HTTP.compile(c.Param, c.sizeParam(), c.SinceParam)
		if err != nil {
			return nil, err
		}
		src, err := sourceSpec[T]{
			paths:  [numSlots]string{c.ItemsPath, "", "", "", c.HasMorePath, ""},
			decode: c.Decode,
		}.compile()
		if err != nil {
			return nil, err
		}
		return &state[T]{c: cl, src: src}, nil
	})
}

func (c *Cursor[T]) sizeParam() string {
	if c.SizeParam == "" {
		return "limit"
	}
	return c.SizeParam
}

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
	} else if c.Param != "" && c.SinceParam == c.Param {
		tok.V = since(pos, c.SinceDefault)
	}

	kv := make([]string, 0, 8)
	if c.SinceParam != c.Param && !tok.P.Has(c.SinceParam) {
		kv = append(kv, c.SinceParam, since(pos, c.SinceDefault))
	}
	if c.Size > 0 && !c.FixedSize {
		kv = append(kv, c.sizeParam(), strconv.Itoa(c.Size))
	}
	if c.Params == nil {
		kv = append(kv, c.Param, tok.V)
	} else {
		for _, k := range slices.Sorted(maps.Keys(tok.P)) {
			for _, v := range tok.P[k] {
				kv = append(kv, k, v)
			}
		}
	}
	resp, br, err := st.c.send(ctx, request{method: st.c.method, url: st.c.buildURL(kv...)})
	if err != nil {
		return paginate.Page[T]{}, err
	}
	r, err := st.src.read(resp, br, c.Size)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	raw := r.Items
	if len(raw) == 0 {
		return paginate.Page[T]{Stop: paginate.StopEmptyPage}, nil
	}
	items := raw
	if c.Inclusive && len(tok.K) > 0 {
		items = c.dropDelivered(raw, tok)
	}
	out := paginate.Page[T]{Items: items}
	if len(items) == len(raw) {
		// The raw records' fingerprint, unless some were dropped: then
		// the runner fingerprints those delivered.
		out.Fingerprint = r.print
	}
	last := raw[len(raw)-1]
	var next cursorToken
	if c.Params != nil {
		next.P = c.Params(last)
		if len(next.P) == 0 {
			return paginate.Page[T]{}, responseError(resp, errors.New("the Params function returned no parameters for the last record"))
		}
	} else if next.V = c.Value(last); next.V == "" {
		return paginate.Page[T]{}, responseError(resp, errors.New("the page's last record has an empty cursor value"))
	}
	if r.HasMore != nil && !*r.HasMore {
		out.Stop = paginate.StopHasMoreFalse
		return out, nil
	}
	if c.ShortPageEnds && c.Size > 0 && len(raw) < c.Size {
		out.Stop = paginate.StopShortPage
		return out, nil
	}
	if c.Inclusive {
		learned := tok.C
		if learned == 0 && tok.N > 0 && tok.N < c.Size && len(items) > 0 {
			// The last response was short yet more followed: the
			// server caps pages at that size.
			learned = tok.N
		}
		capacity := c.Size
		if learned > 0 {
			capacity = learned
		}
		if next.V == tok.V {
			// The whole page is at the value just asked for: the next
			// request would be this one again.
			if len(raw) >= capacity {
				return paginate.Page[T]{}, responseError(resp, fmt.Errorf(
					"%w: all %d records of the page have %s=%q and the server's filter is inclusive, so the next request would return them again; "+
						"the API needs a tie-breaker (a compound cursor, see Cursor.Params) or a page larger than the tie",
					ErrTieTooLarge, len(raw), c.Param, next.V))
			}
			// Fewer than a page: these were all the records left.
			out.Stop = paginate.StopLastPage
			return out, nil
		}
		next.C = learned
		next.N = len(raw)
		for i := len(raw) - 1; i >= 0 && c.Value(raw[i]) == next.V; i-- {
			next.K = append(next.K, c.Key(raw[i]))
		}
		slices.Reverse(next.K)
	}
	b, err := json.Marshal(next)
	if err != nil {
		return paginate.Page[T]{}, paginate.Permanent(fmt.Errorf("encoding the cursor: %w", err))
	}
	out.More = true
	out.Next = paginate.Position{Token: string(b)}
	return out, nil
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
