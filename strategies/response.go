package strategies

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/paginate"
)

// Response is what one response says, as the strategies need it. A
// strategy fills it from the paths and headers it is configured with, or
// from its Decode function when that is set.
//
// A Decode function gets responses with a 2xx status only. It reads
// resp.Body, which fails with ErrBodyTooLarge past Limits.MaxBody, and must
// not keep it: the paginator reads what is left and closes it. The header
// sources (total headers, token header, Link header) then fill the fields
// Decode left zero. An error from Decode is permanent, unless reading the
// body failed in transport.
type Response[T any] struct {
	// Items are the page's records. Nil and empty both mean an empty page.
	Items []T
	// TotalItems and TotalPages are the server's totals, zero when unknown.
	TotalItems int64
	TotalPages int64
	// Page is the page number the server says it served, zero when unknown.
	Page int64
	// HasMore is the server's has-more flag, nil when it did not say.
	HasMore *bool
	// Next is the next page's token or URL, empty when there is none.
	Next string

	// print is the fingerprint of the items' raw bytes, zero for an empty
	// page or a Decode function's response (see printReader).
	print uint64
}

// source says where a strategy reads a response from: the body paths
// (compiled into an envelope), headers, or a user function.
type source[T any] struct {
	env              *envelope
	decode           func(*http.Response) (Response[T], error)
	totalHeader      string
	totalPagesHeader string
	nextHeader       string
	linkRel          string
	hasMoreIf        HasMoreRule
}

// sourceSpec is the uncompiled form of a source.
type sourceSpec[T any] struct {
	paths            [numSlots]string
	decode           func(*http.Response) (Response[T], error)
	totalHeader      string
	totalPagesHeader string
	nextHeader       string
	linkRel          string // the Link header relation of the next URL
	hasMoreIf        HasMoreRule
}

func (s sourceSpec[T]) compile() (*source[T], error) {
	src := &source[T]{
		decode:           s.decode,
		totalHeader:      http.CanonicalHeaderKey(s.totalHeader),
		totalPagesHeader: http.CanonicalHeaderKey(s.totalPagesHeader),
		nextHeader:       http.CanonicalHeaderKey(s.nextHeader),
		linkRel:          lowerASCII(s.linkRel),
		hasMoreIf:        s.hasMoreIf,
	}
	if s.decode == nil {
		env, err := compileEnvelope(s.paths)
		if err != nil {
			return nil, err
		}
		src.env = env
	}
	return src, nil
}

// read turns a 2xx response into a Response, closing its body. sizeHint is
// the expected number of items, to size the slice once. The error is an
// *HTTPError; it is permanent unless the transport failed mid-body.
func (s *source[T]) read(resp *http.Response, br *bodyReader, sizeHint int) (Response[T], error) {
	defer resp.Body.Close()
	var r Response[T]
	var err error
	if s.decode != nil {
		r, err = s.decode(resp)
		if err != nil {
			err = &decodeError{err}
		} else {
			// Read to the end, for the connection's sake and to catch
			// a body over the limit that Decode stopped short of.
			_, err = discardTail(br)
		}
	} else {
		r, err = s.readBody(br, sizeHint, itemLimit(br))
	}
	if err == nil {
		err = s.readHeaders(resp.Header, &r)
	}
	if err == nil {
		return r, nil
	}
	return r, bodyError(resp, br, err)
}

// itemLimit returns how many records a page read through br may hold:
// Limits.MaxItems, or DefaultMaxItems when that is zero. Zero means no
// limit.
func itemLimit(br *bodyReader) int {
	if br.ex == nil {
		return DefaultMaxItems
	}
	switch m := br.ex.c.maxItems; {
	case m < 0:
		return 0
	case m > 0:
		return m
	}
	return DefaultMaxItems
}

// discardTail reads what is left of a body, up to the limit.
func discardTail(br *bodyReader) (int64, error) {
	var p [4096]byte
	var n int64
	for {
		m, err := br.Read(p[:])
		n += int64(m)
		if err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
	}
}

func (s *source[T]) readBody(br *bodyReader, sizeHint, maxItems int) (Response[T], error) {
	var r Response[T]
	b := newBudget[T](br)
	if sizeHint > 0 {
		// A hint, not a promise: a page may hold fewer records, and a
		// size of millions must not reserve room for them up front.
		n := min(sizeHint, 10000)
		if lim, ok := b.recordsFit(); ok {
			n = min(n, lim)
		}
		r.Items = make([]T, 0, n)
	}
	var v values
	sr := newSpaceReader(br, b, s.env.itemsDepth)
	if err := s.env.decode(sr, itemList[T]{&r.Items, maxItems, b}, &v); err != nil {
		if sr.err != nil {
			// The budget stopped the read. A decoder may pass the
			// reader's error on as text only (GOEXPERIMENT=jsonv2
			// does): the page's error is the budget's.
			return r, sr.err
		}
		return r, err
	}
	if !v.seen[slotItems] {
		return r, fmt.Errorf("%w: %q", ErrMissingField, s.env.itemsPath)
	}
	if len(r.Items) > 0 {
		r.print = v.print
	}
	var err error
	for sl := slotTotalItems; sl < numSlots; sl++ {
		if !v.seen[sl] || err != nil {
			continue
		}
		raw := []byte(v.raw[sl])
		var n int64
		switch sl {
		case slotTotalItems, slotTotalPages, slotPage:
			n, err = intValue(raw)
			if errors.Is(err, errNull) {
				err = nil
				continue
			}
			if err == nil && n < 0 {
				err = fmt.Errorf("want a count, got %d", n)
			}
			switch sl {
			case slotTotalItems:
				r.TotalItems = n
			case slotTotalPages:
				r.TotalPages = n
			default:
				r.Page = n
			}
		case slotHasMore:
			if s.hasMoreIf == MoreIfNotNull {
				continue // read below: any value but null
			}
			var b bool
			b, err = boolValue(raw)
			if errors.Is(err, errNull) {
				err = nil
				continue
			}
			r.HasMore = &b
		case slotNext:
			r.Next, err = stringValue(raw)
		}
		if err != nil {
			err = fmt.Errorf("%w: %s at %q: %v", ErrBadJSON, slotNames[sl], s.env.paths[sl], err)
		}
	}
	if s.env.paths[slotHasMore] != "" {
		switch s.hasMoreIf {
		case MoreIfFalse:
			if r.HasMore != nil {
				more := !*r.HasMore
				r.HasMore = &more
			}
		case MoreIfNotNull:
			more := v.seen[slotHasMore] && string(v.raw[slotHasMore]) != "null"
			r.HasMore = &more
		}
	}
	return r, err
}

func (s *source[T]) readHeaders(h http.Header, r *Response[T]) error {
	if s.totalHeader != "" && r.TotalItems == 0 {
		n, err := headerTotal(h, s.totalHeader)
		if err != nil {
			return err
		}
		r.TotalItems = n
	}
	if s.totalPagesHeader != "" && r.TotalPages == 0 {
		n, err := headerTotal(h, s.totalPagesHeader)
		if err != nil {
			return err
		}
		r.TotalPages = n
	}
	if r.Next == "" {
		switch {
		case s.nextHeader != "":
			r.Next = strings.TrimSpace(h.Get(s.nextHeader))
		case s.linkRel != "":
			r.Next = findRel(ParseLinkHeader(h.Values("Link")...), s.linkRel)
		}
	}
	return nil
}

// headerTotal reads a total from a header: a plain count such as
// X-Total-Count's, or the complete length of a Content-Range such as
// "items 0-24/319". A missing header, or a length of "*", is unknown.
func headerTotal(h http.Header, name string) (int64, error) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, nil
	}
	s := v
	if i := strings.LastIndexByte(v, '/'); i >= 0 {
		s = strings.TrimSpace(v[i+1:])
		if s == "*" {
			return 0, nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("header %s: want a count, got %q", name, v)
	}
	return n, nil
}

// bodyError classifies an error met while reading a 2xx body and wraps it
// in an *HTTPError. A transport failure mid-body is worth a retry; a body
// over the limit, one that is not JSON or is malformed, or a Decode error,
// is permanent.
func bodyError(resp *http.Response, br *bodyReader, err error) error {
	herr := newHTTPError(resp.Request, resp, nil)
	herr.Body = herr.redact.excerpt(br.Head())
	switch {
	case br.tooBig:
		herr.Err = fmt.Errorf("%w: over the limit of %d bytes", ErrBodyTooLarge, br.max)
		return paginate.Permanent(herr)
	case br.readErr != nil:
		herr.Err = fmt.Errorf("reading the body: %w", br.readErr)
		return herr
	case errors.As(err, new(*decodeError)):
		herr.Err = err
	case errors.Is(err, ErrBadJSON), errors.Is(err, ErrMissingField), errors.Is(err, ErrNotJSON), errors.Is(err, ErrTooManyItems),
		errors.Is(err, ErrOtherOrigin), errors.Is(err, ErrConfig):
		herr.Err = err
	case !looksLikeJSON(herr.Body):
		if len(herr.Body) == 0 {
			herr.Err = fmt.Errorf("%w: the body is empty", ErrNotJSON)
		} else {
			herr.Err = ErrNotJSON
		}
	default:
		herr.Err = fmt.Errorf("%w: %w", ErrBadJSON, err)
	}
	return paginate.Permanent(herr)
}

// decodeError is an error from a user's Decode function.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decode: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// looksLikeJSON reports whether a body starts as a JSON value would.
func looksLikeJSON(head []byte) bool {
	for _, c := range head {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[', '"', '-', 't', 'f', 'n', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return true
		}
		return false
	}
	return false
}
