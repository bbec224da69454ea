package strategies

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// NextToken is a paginator for APIs that hand out the next page's token or
// URL with each page: a token in the body (Google's nextPageToken, Slack's
// response_metadata.next_cursor), a token in a header, a next URL in the
// body (the mock API's next_page_url), or the Link header's rel="next" (GitHub,
// GitLab, Shopify). A token is sent back as a query parameter, a header, or
// a field of a JSON body; a URL is requested as it is.
//
// It stops when the token is missing, null or empty (StopNoNextToken) or on
// has-more false. An empty page with a token is not the end: the token
// says more follows. A next URL on another scheme or host than HTTP.URL is
// refused with ErrOtherOrigin unless its host is in HTTP.AllowHosts, so
// credentials never go to another origin. Token cycles and links to the
// same page are caught by the runner's loop detection.
//
// The zero Position is the first page; later positions hold the token or
// the next URL in Token, relative to HTTP.URL's origin when it is on it, so
// that a checkpoint survives a change of host. Secret query parameters
// (see HTTP.Secrets) never stay in a stored next URL: one that HTTP.URL or
// HTTP.Query sets is dropped and added back on each request, and one the
// API issued (an access_token or signature of its own) is replaced by a
// "REDACTED-..." marker while its value is kept in memory for the
// requests of this process. A new process resuming from such a position
// takes the value from HTTP.Query or HTTP.Auth, or fails with
// ErrSecretUnknown. Configure it before the first Fetch and do not change
// it afterwards.
type NextToken[T any] struct {
	HTTP

	// Where the next page's token or URL comes from: set one, or set
	// Decode to fill Response.Next.
	//
	// TokenPath is the body path of a token, such as "nextPageToken".
	// TokenHeader is a response header with a token. NextURLPath is the
	// body path of a next URL, absolute or relative to the request URL.
	// LinkHeader follows the Link header's rel="next" URL.
	TokenPath   string
	TokenHeader string
	NextURLPath string
	LinkHeader  bool

	// Where a token goes on the next request: set one of these for a
	// token (none for a next URL, which is requested as it is).
	//
	// TokenParam is a query parameter, such as "pageToken" or "cursor".
	// TokenRequestHeader is a request header. TokenBodyField is the
	// dotted path of a field of the JSON request body, which is Body with
	// the token set, sent by POST.
	TokenParam         string
	TokenRequestHeader string
	TokenBodyField     string
	// Body, when set, is encoded as JSON and sent by POST (or
	// HTTP.Method) with every request.
	Body any
	// FirstToken is the token sent with the first request, such as "*"
	// for Solr's cursorMark; empty sends no token then.
	FirstToken string

	// SizeParam is the page size's query parameter; empty means "limit".
	// It is sent only when Size is positive, and not with next URLs.
	SizeParam string
	Size      int

	// SinceParam, when set, is the query parameter of the incremental
	// lower bound: requests built from HTTP.URL send the position's Since
	// there, or SinceDefault when Since is empty. Next URLs are expected
	// to carry it.
	SinceParam   string
	SinceDefault string

	// ItemsPath is the path of the records; empty means the body is the
	// array. HasMorePath and TotalItemsPath are the paths of a has-more
	// flag and of the total; TotalItemsHeader names a header with the
	// total. Empty ones are not read.
	ItemsPath        string
	HasMorePath      string
	TotalItemsPath   string
	TotalItemsHeader string

	// Decode, when set, reads responses instead of the paths above (see
	// [Response]); its Response.Next is the token, or the next URL when
	// no token placement is set.
	Decode func(*http.Response) (Response[T], error)

	lazy  lazy[T]
	extra tokenState
}

// tokenState is what NextToken compiles beyond the shared state.
type tokenState struct {
	urlMode   bool
	method    string
	body      []byte        // Body encoded, sent when there is no token
	bodyTmpl  *bodyTemplate // Body with the token field to set
	fieldKeys []string
}

func (n *NextToken[T]) state() (*state[T], error) {
	return n.lazy.get(func() (*state[T], error) {
		sources := count(n.TokenPath != "", n.TokenHeader != "", n.NextURLPath != "", n.LinkHeader)
		placements := count(n.TokenParam != "", n.TokenRequestHeader != "", n.TokenBodyField != "")
		switch {
		case sources > 1:
			return nil, fmt.Errorf("%w: NextToken takes one of TokenPath, TokenHeader, NextURLPath and LinkHeader", ErrConfig)
		case sources == 0 && n.Decode == nil:
			return nil, fmt.Errorf("%w: NextToken needs TokenPath, TokenHeader, NextURLPath, LinkHeader or Decode", ErrConfig)
		case placements > 1:
			return nil, fmt.Errorf("%w: NextToken takes one of TokenParam, TokenRequestHeader and TokenBodyField", ErrConfig)
		case placements == 0 && (n.TokenPath != "" || n.TokenHeader != ""):
			return nil, fmt.Errorf("%w: NextToken needs TokenParam, TokenRequestHeader or TokenBodyField to send the token back", ErrConfig)
		case placements > 0 && (n.NextURLPath != "" || n.LinkHeader):
			return nil, fmt.Errorf("%w: a next URL is requested as it is; drop TokenParam, TokenRequestHeader and TokenBodyField", ErrConfig)
		case n.Size < 0:
			return nil, fmt.Errorf("%w: NextToken.Size must not be negative", ErrConfig)
		case n.FirstToken != "" && placements == 0:
			return nil, fmt.Errorf("%w: NextToken.FirstToken needs a token placement", ErrConfig)
		}
		x := &n.extra
		x.urlMode = placements == 0
		x.method = n.Method
		if n.Body != nil || n.TokenBodyField != "" {
			if x.method == "" {
				x.method = http.MethodPost
			}
			b := []byte("{}")
			var err error
			if n.Body != nil {
				b, err = json.Marshal(n.Body)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: NextToken.Body: %v", ErrConfig, err)
			}
			x.body = b
			if n.TokenBodyField != "" {
				if x.fieldKeys, err = parseKeys(n.TokenBodyField); err != nil {
					return nil, fmt.Errorf("%w: NextToken.TokenBodyField %q is not a field path", ErrConfig, n.TokenBodyField)
				}
				if x.bodyTmpl, err = compileBody(b, [][]string{x.fieldKeys}); err != nil {
					return nil, fmt.Errorf("%w: NextToken.Body must encode as a JSON object to take TokenBodyField: %v", ErrConfig, err)
				}
			}
		}
		c, err := n.HTTP.compile(n.TokenParam, n.sizeParam(), n.SinceParam)
		if err != nil {
			return nil, err
		}
		nextPath, nextHeader := n.TokenPath, n.TokenHeader
		if n.NextURLPath != "" {
			nextPath = n.NextURLPath
		}
		src, err := sourceSpec[T]{
			paths:       [numSlots]string{n.ItemsPath, n.TotalItemsPath, "", "", n.HasMorePath, nextPath},
			decode:      n.Decode,
			totalHeader: n.TotalItemsHeader,
			nextHeader:  nextHeader,
			linkNext:    n.LinkHeader,
		}.compile()
		if err != nil {
			return nil, err
		}
		return &state[T]{c: c, src: src}, nil
	})
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func (n *NextToken[T]) sizeParam() string {
	if n.SizeParam == "" {
		return "limit"
	}
	return n.SizeParam
}

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
	x := &n.extra
	req := request{method: x.method, body: x.body}
	if x.urlMode && pos.Token != "" {
		u, err := url.Parse(pos.Token)
		if err != nil {
			return paginate.Page[T]{}, badPosition("next-URL", pos)
		}
		u = st.c.base.ResolveReference(u)
		if err := st.c.checkOrigin(u, "next URL"); err != nil {
			return paginate.Page[T]{}, paginate.Permanent(err)
		}
		req.missing = st.c.restoreNext(u)
		req.url = u.String()
	} else {
		token := pos.Token
		if token == "" {
			token = n.FirstToken
		}
		var size string
		if n.Size > 0 {
			size = strconv.Itoa(n.Size)
		}
		var param string
		if n.TokenParam != "" {
			param = token
		}
		req.url = st.c.buildURL(n.SinceParam, since(pos, n.SinceDefault), n.sizeParam(), size, n.TokenParam, param)
		if n.TokenRequestHeader != "" && token != "" {
			req.header, req.value = n.TokenRequestHeader, token
		}
		if n.TokenBodyField != "" && token != "" {
			tok, err := json.Marshal(token)
			if err != nil {
				return paginate.Page[T]{}, paginate.Permanent(fmt.Errorf("encoding the request body: %w", err))
			}
			req.body = x.bodyTmpl.render([][]byte{tok})
		}
	}
	resp, br, err := st.c.send(ctx, req)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	r, err := st.src.read(resp, br, n.Size)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	next := strings.TrimSpace(r.Next)
	if x.urlMode && next != "" {
		ref, err := url.Parse(next)
		if err != nil {
			return paginate.Page[T]{}, responseError(resp, fmt.Errorf("%w: next URL %q: %v", ErrBadJSON, redactString(next), err))
		}
		abs := resp.Request.URL.ResolveReference(ref)
		if err := st.c.checkOrigin(abs, "next URL"); err != nil {
			return paginate.Page[T]{}, responseError(resp, err)
		}
		st.c.storeNext(resp.Request, abs)
		next = st.c.relative(abs)
	}
	out := paginate.Page[T]{Items: r.Items, TotalItems: r.TotalItems, Fingerprint: r.print}
	switch {
	case r.HasMore != nil && !*r.HasMore:
		out.Stop = paginate.StopHasMoreFalse
	case next == "":
		out.Stop = paginate.StopNoNextToken
	default:
		out.More = true
		out.Next = paginate.Position{Token: next}
	}
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
