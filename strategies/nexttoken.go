package strategies

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// NextToken is a paginator for APIs that hand out the next page's token or
// URL with each page: a token in the body (Google's nextPageToken, Slack's
// response_metadata.next_cursor), a token in a header, a next URL in the
// body (the mock API's next_page_url), or the Link header's rel="next" (GitHub,
// GitLab, Shopify). A token is sent back as a query parameter, a header, or
// a field of a JSON body; a URL is requested as it is, with the static
// headers, the credentials and the first request's method and Request.Body,
// but none of the values the strategy places (see ResendParams).
//
// It stops when the token is missing, null or empty (StopNoNextToken) or on
// has-more false. An empty page with a token is not the end: the token
// says more follows. A next URL on another scheme or host than Request.URL is
// refused with ErrOtherOrigin unless its host is in Request.AllowHosts, so
// credentials never go to another origin. Token cycles and links to the
// same page are caught by the runner's loop detection.
//
// The zero Position is the first page; later positions hold the token or
// the next URL in Token, relative to Request.URL's origin when it is on it, so
// that a checkpoint survives a change of host. Secret query parameters
// (see Request.Secrets) never stay in a stored next URL: one that Request.URL or
// Request.Query sets is dropped and added back on each request, and one the
// API issued (an access_token or signature of its own) is replaced by a
// "REDACTED-..." marker while its value is kept in memory for the
// requests of this process. A new process resuming from such a position
// takes the value from Request.Query or Request.Auth, or fails with
// ErrSecretUnknown. Configure it before the first Fetch and do not change
// it afterwards.
type NextToken[T any] struct {
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

	// TokenPath is the body path of the next page's token, such as
	// "nextPageToken". Set one of TokenPath, TokenHeader, NextURLPath
	// and LinkRel, or a Response.Decode that sets the Next of what it
	// returns.
	TokenPath string
	// TokenHeader is a response header with the next page's token.
	TokenHeader string
	// NextURLPath is the body path of the next page's URL, absolute or
	// relative to the request's.
	NextURLPath string
	// LinkRel follows the Link header's link with this relation, such as
	// "next".
	LinkRel string

	// TokenParam is where a token goes on the next request, such as
	// Query("pageToken") or Body("page.start_cursor"). A next URL is
	// requested as it is, and takes none.
	TokenParam Param
	// FirstToken is the token sent with the first request, such as "*"
	// for Solr's cursorMark; empty sends no token then.
	FirstToken string

	// ByPosition says the tokens or next URLs count records (?page=3,
	// ?offset=100) rather than go on after the last record, so that the
	// runner tracks keys (see paginate.Describer).
	ByPosition bool

	// Expired lists the responses by which the API says that a token or
	// next URL it issued has expired; the sync then restarts from its
	// last completed mark (see [Expiry]).
	Expired []Expiry

	// ResendParams places the window's bounds and the page size on each
	// request to a next URL too (in its query only where it lacks them);
	// by default it carries Request's headers, credentials, method and
	// Body only.
	ResendParams bool

	lazy lazy[T]
}

func (n *NextToken[T]) parts() parts[T] {
	return parts[T]{&n.Request, &n.Response, &n.Window, &n.Limits, n.Size, n.SizeParam}
}

// tokenBox is a token position that also carries the window's end, stored
// as JSON in Position.Token when the window has an upper bound.
type tokenBox struct {
	T string `json:"t"`
	U string `json:"u,omitempty"`
}

func (n *NextToken[T]) state() (*state[T], error) { return n.lazy.get(n.compile) }

func (n *NextToken[T]) compile() (*state[T], error) {
	sources := count(n.TokenPath != "", n.TokenHeader != "", n.NextURLPath != "", n.LinkRel != "")
	placed := n.TokenParam.sent()
	switch {
	case sources > 1:
		return nil, fmt.Errorf("%w: NextToken takes one of TokenPath, TokenHeader, NextURLPath and LinkRel", ErrConfig)
	case sources == 0 && n.Response.Decode == nil:
		return nil, fmt.Errorf("%w: NextToken needs TokenPath, TokenHeader, NextURLPath, LinkRel or Response.Decode", ErrConfig)
	case !placed && (n.TokenPath != "" || n.TokenHeader != ""):
		return nil, fmt.Errorf("%w: NextToken needs TokenParam to send the token back", ErrConfig)
	case placed && (n.NextURLPath != "" || n.LinkRel != ""):
		return nil, fmt.Errorf("%w: a next URL is requested as it is; drop TokenParam", ErrConfig)
	case n.FirstToken != "" && !placed:
		return nil, fmt.Errorf("%w: NextToken.FirstToken needs TokenParam", ErrConfig)
	case n.TokenParam.In == Nowhere && n.TokenParam.Name != "":
		return nil, fmt.Errorf("%w: NextToken.TokenParam %q goes nowhere", ErrConfig, n.TokenParam.Name)
	}
	params := n.parts().params()
	params[rolePos] = n.TokenParam
	nextPath := n.TokenPath
	if n.NextURLPath != "" {
		nextPath = n.NextURLPath
	}
	return compileState(n.parts(), params, [numRoles]bool{roleSize: true}, InQuery, "", nextPath, n.TokenHeader, n.LinkRel)
}

// urlMode reports whether positions hold next URLs rather than tokens.
func (n *NextToken[T]) urlMode() bool { return !n.TokenParam.sent() }

func count(bs ...bool) int {
	c := 0
	for _, b := range bs {
		if b {
			c++
		}
	}
	return c
}

// Describe says whether NextToken reads by position (ByPosition), and
// whether its requests send the sync's Since (SinceParam, or
// NewestFirst; see paginate.Describer).
func (n *NextToken[T]) Describe() paginate.Description {
	return paginate.Description{ByPosition: n.ByPosition && n.Window.NewestFirst == nil, SendsSince: n.Window.sendsSince()}
}

// Validate reports what is wrong with the configuration, as the first
// Fetch would; paginate.Run calls it before the first request.
func (n *NextToken[T]) Validate() error { return n.lazy.validate(n.compile) }

// Fetch fetches the page for the token or next URL in pos.Token, or the
// first page.
func (n *NextToken[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	st, err := n.state()
	if err != nil {
		return paginate.Page[T]{}, err
	}
	if pos.Page != 0 || pos.Offset != 0 {
		return paginate.Page[T]{}, badPosition("next-token", pos)
	}
	token, carried := pos.Token, ""
	if n.Window.keepsEnd() && token != "" {
		var box tokenBox
		if err := json.Unmarshal([]byte(token), &box); err != nil {
			return paginate.Page[T]{}, badPosition("next-token", pos)
		}
		token, carried = box.T, box.U
	}
	var vals [numRoles]string
	end, err := n.Window.bounds(&vals, pos, carried)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	vals[roleSize] = n.parts().sizeValue()
	var next string
	var missing []string
	if n.urlMode() && token != "" {
		u, err := url.Parse(token)
		if err != nil {
			return paginate.Page[T]{}, badPosition("next-URL", pos)
		}
		u = st.c.base.ResolveReference(u)
		if err := st.c.checkOrigin(u, "next URL"); err != nil {
			return paginate.Page[T]{}, paginate.Permanent(err)
		}
		missing = st.c.restoreNext(u)
		next = u.String()
		if !n.ResendParams {
			vals = [numRoles]string{}
		}
	} else if !n.urlMode() {
		if token == "" {
			token = n.FirstToken
		}
		vals[rolePos] = token
	}
	resp, r, err := st.fetch(ctx, vals, nil, next, missing, n.Size)
	if err != nil {
		if pos.Token != "" {
			err = expired(err, n.Expired)
		}
		return paginate.Page[T]{}, err
	}
	nextTok := strings.TrimSpace(r.Next)
	if n.urlMode() && nextTok != "" {
		ref, err := url.Parse(nextTok)
		if err != nil {
			return paginate.Page[T]{}, responseError(resp, fmt.Errorf("%w: next URL %q: %v", ErrBadJSON, redactString(nextTok), err))
		}
		abs := resp.Request.URL.ResolveReference(ref)
		if err := st.c.checkOrigin(abs, "next URL"); err != nil {
			return paginate.Page[T]{}, responseError(resp, err)
		}
		st.c.storeNext(resp.Request, abs)
		nextTok = st.c.relative(abs)
	}
	items, below, err := n.Window.cut(r.Items, pos)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	out := paginate.Page[T]{Items: items, TotalItems: r.TotalItems, TotalPages: r.TotalPages}
	if len(items) == len(r.Items) {
		out.Fingerprint = r.print
	}
	out.Stop = n.Response.stop(ending{
		below:   below,
		hasMore: r.HasMore,
		tokens:  true,
		next:    nextTok != "",
		empty:   len(r.Items) == 0,
		short:   n.Size > 0 && len(r.Items) < n.Size,
	})
	if out.Stop == paginate.StopNone {
		out.More = true
		out.Next = paginate.Position{Token: nextTok}
		if n.Window.keepsEnd() {
			b, err := json.Marshal(tokenBox{T: nextTok, U: end})
			if err != nil {
				return paginate.Page[T]{}, paginate.Permanent(fmt.Errorf("encoding the token: %w", err))
			}
			out.Next.Token = string(b)
		}
	}
	n.Window.closeWindow(&out, pos, carried, end)
	return out, nil
}

// relative returns u as a reference relative to the base URL's origin
// ("/path?query") when it is on that origin, so that a stored position does
// not depend on the host, which may change between runs (a server on a new
// port, staging and production); a URL on another, allowed, host stays
// absolute.
func (c *client) relative(u *url.URL) string {
	bs, bh := origin(c.base)
	if s, h := origin(u); s != bs || h != bh || u.User != nil || strings.HasPrefix(u.EscapedPath(), "//") {
		return u.String()
	}
	r := url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, ForceQuery: u.ForceQuery}
	if r.Path == "" {
		r.Path = "/"
	}
	return r.String()
}
