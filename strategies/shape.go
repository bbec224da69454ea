package strategies

import (
	"fmt"
	"net/http"
)

// Shape says where a response keeps its records and how it tells that the
// data has ended: the paths of the records, the totals and a has-more
// flag, the headers with totals, and whether an empty or short page is the
// end. The zero Shape reads a body that is a bare JSON array, with no
// totals. See the package documentation for paths and for how a sync ends.
type Shape[T any] struct {
	// ItemsPath is the path of the records in the body; empty means the
	// body is the array.
	ItemsPath string

	// TotalItemsPath and TotalPagesPath are the paths of the totals;
	// empty ones are not read, and an absent or null value is unknown.
	TotalItemsPath string
	TotalPagesPath string

	// TotalItemsHeader and TotalPagesHeader name response headers with the
	// totals, such as "X-Total-Count" or "Content-Range", read when the
	// body gave none.
	TotalItemsHeader string
	TotalPagesHeader string

	// HasMorePath is the path of a value that says whether more pages
	// follow, read as HasMoreIf says.
	HasMorePath string
	HasMoreIf   HasMoreRule

	// EmptyPageEnds says an empty page is the end of the data even when
	// the totals or a next token say more pages follow. By default they
	// win, for APIs that serve empty filtered pages.
	EmptyPageEnds bool

	// ShortPageEnds says a page with fewer records than the strategy's
	// Size is the last. Set it only for a server known never to cap page
	// sizes below Size.
	ShortPageEnds bool

	// Decode, when set, reads responses instead of the paths above (see
	// [Response]).
	Decode func(*http.Response) (Response[T], error)
}

// HasMoreRule says how to read the value at Shape.HasMorePath.
type HasMoreRule int8

const (
	// MoreIfTrue: true means more pages follow, false that this page is
	// the last (Stripe's has_more).
	MoreIfTrue HasMoreRule = iota
	// MoreIfFalse: false means more pages follow, true that this page is
	// the last (Salesforce's done).
	MoreIfFalse
	// MoreIfNotNull: any value but null means more pages follow; null or
	// no value at all means this page is the last (json-server 1.x's
	// "next": 2).
	MoreIfNotNull
)

// source compiles where the strategy reads a response from; page and
// next are the strategy's own paths, nextHeader and linkRel its header
// sources of a next token or URL.
func (s *Shape[T]) source(page, next, nextHeader, linkRel string) (*source[T], error) {
	if s.HasMoreIf < MoreIfTrue || s.HasMoreIf > MoreIfNotNull {
		return nil, fmt.Errorf("%w: HasMoreIf %d is not a HasMoreRule", ErrConfig, s.HasMoreIf)
	}
	return sourceSpec[T]{
		paths:            [numSlots]string{s.ItemsPath, s.TotalItemsPath, s.TotalPagesPath, page, s.HasMorePath, next},
		decode:           s.Decode,
		totalHeader:      s.TotalItemsHeader,
		totalPagesHeader: s.TotalPagesHeader,
		nextHeader:       nextHeader,
		linkRel:          linkRel,
		hasMoreIf:        s.HasMoreIf,
	}.compile()
}
