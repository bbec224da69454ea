package strategies

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"

	"github.com/pagekit/pagekit/paginate"
)

// PageNumber is a paginator for APIs that number their pages, such as
// ?page=3&per_page=50: GitHub without Link headers, WordPress, Jamf,
// json-server, the mock API of package mockapi. It is also a [paginate.Planner]: once the first page
// reports a total, the runner can fetch the other pages in parallel.
//
// It stops, in this order of precedence, on an empty page; on has-more
// false; when the page number reaches the total pages, or the pages so far
// hold the total items (StopTotalReached); at MaxPage; and on a short page
// only when ShortPageEnds is set, because servers often cap page sizes
// silently. A response whose page number differs from the one requested
// fails with ErrPageMismatch.
//
// The zero Position is the first page. Next holds the following page
// number in Page and the number of records before it in Offset, which makes
// the total-items stop exact whatever the page sizes were; a position with
// Offset 0 past the first page is accepted too (it only makes that stop
// later). Configure it before the first Fetch and do not change it
// afterwards.
type PageNumber[T any] struct {
	HTTP

	// PageParam is the page number's query parameter; empty means "page".
	PageParam string
	// ZeroBased says the first page is page 0; by default it is page 1.
	ZeroBased bool
	// OmitFirstPage leaves the page parameter out of the first page's
	// request, which then relies on the server's default, as the
	// Connector SDK's page-number example does.
	OmitFirstPage bool

	// SizeParam is the page size's query parameter; empty means
	// "per_page". It is sent only when Size is positive.
	SizeParam string
	// Size is the page size to ask for; zero leaves it to the server.
	Size int

	// SinceParam, when set, is the query parameter of the incremental
	// lower bound (such as "updated_since"): every request sends the
	// position's Since there, or SinceDefault when Since is empty.
	SinceParam   string
	SinceDefault string

	// ItemsPath is the path of the records in the body (see the package
	// documentation for paths); empty means the body is the array.
	ItemsPath string
	// TotalItemsPath, TotalPagesPath, PagePath and HasMorePath are the
	// paths of the total items, total pages, current page number and
	// has-more flag; empty ones are not read. An absent or null value is
	// unknown.
	TotalItemsPath string
	TotalPagesPath string
	PagePath       string
	HasMorePath    string
	// TotalItemsHeader and TotalPagesHeader name response headers with the
	// totals, such as "X-Total-Count" or "Content-Range"; they are read when
	// the body gave none.
	TotalItemsHeader string
	TotalPagesHeader string

	// Decode, when set, reads responses instead of the paths above (see
	// [Response]).
	Decode func(*http.Response) (Response[T], error)

	// MaxPage, when positive, is the last page number fetched; the run
	// then ends with StopDepthLimit.
	MaxPage int64
	// ShortPageEnds says a page with fewer than Size items is the last.
	ShortPageEnds bool

	lazy lazy[T]
}

func (p *PageNumber[T]) state() (*state[T], error) {
	return p.lazy.get(func() (*state[T], error) {
		if p.Size < 0 || p.MaxPage < 0 {
			return nil, fmt.Errorf("%w: PageNumber Size and MaxPage must not be negative", ErrConfig)
		}
		c, err := p.HTTP.compile(p.pageParam(), p.sizeParam(), p.SinceParam)
		if err != nil {
			return nil, err
		}
		src, err := sourceSpec[T]{
			paths:            [numSlots]string{p.ItemsPath, p.TotalItemsPath, p.TotalPagesPath, p.PagePath, p.HasMorePath, ""},
			decode:           p.Decode,
			totalHeader:      p.TotalItemsHeader,
			totalPagesHeader: p.TotalPagesHeader,
		}.compile()
		if err != nil {
			return nil, err
		}
		return &state[T]{c: c, src: src}, nil
	})
}

func (p *PageNumber[T]) pageParam() string {
	if p.PageParam == "" {
		return "page"
	}
	return p.PageParam
}

func (p *PageNumber[T]) sizeParam() string {
	if p.SizeParam == "" {
		return "per_page"
	}
	return p.SizeParam
}

func (p *PageNumber[T]) firstPage() int64 {
	if p.ZeroBased {
		return 0
	}
	return 1
}

// Fetch fetches the page at pos.Page, or the first page for the zero
// Position.
func (p *PageNumber[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	st, err := p.state()
	if err != nil {
		return paginate.Page[T]{}, err
	}
	first := p.firstPage()
	page := pos.Page
	if pos.IsStart() {
		page = first
	}
	if pos.Offset < 0 || pos.Token != "" || page < first {
		return paginate.Page[T]{}, badPosition("page-number", pos)
	}
	var pageValue, sizeValue string
	if !p.OmitFirstPage || page != first {
		pageValue = strconv.FormatInt(page, 10)
	}
	if p.Size > 0 {
		sizeValue = strconv.Itoa(p.Size)
	}
	u := st.c.buildURL(p.SinceParam, since(pos, p.SinceDefault), p.sizeParam(), sizeValue, p.pageParam(), pageValue)
	resp, br, err := st.c.send(ctx, request{method: st.c.method, url: u})
	if err != nil {
		return paginate.Page[T]{}, err
	}
	r, err := st.src.read(resp, br, p.Size)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	if r.Page != 0 && r.Page != page {
		return paginate.Page[T]{}, responseError(resp, fmt.Errorf("%w: asked for page %d, got page %d", ErrPageMismatch, page, r.Page))
	}
	out := paginate.Page[T]{Items: r.Items, TotalItems: r.TotalItems, TotalPages: r.TotalPages, Fingerprint: r.print}
	n := page - first + 1 // this page's rank: 1 for the first page
	after := pos.Offset + int64(len(r.Items))
	switch {
	case len(r.Items) == 0:
		out.Stop = paginate.StopEmptyPage
	case r.HasMore != nil && !*r.HasMore:
		out.Stop = paginate.StopHasMoreFalse
	case r.TotalPages > 0 && n >= r.TotalPages,
		r.TotalItems > 0 && after >= r.TotalItems:
		out.Stop = paginate.StopTotalReached
	case p.MaxPage > 0 && page >= p.MaxPage:
		out.Stop = paginate.StopDepthLimit
	case p.ShortPageEnds && p.Size > 0 && len(r.Items) < p.Size:
		out.Stop = paginate.StopShortPage
	default:
		out.More = true
		out.Next = paginate.Position{Page: page + 1, Offset: after}
	}
	return out, nil
}

// Plan returns the positions of the pages after first, the page fetched at
// pos, up to the last page its totals announce: the total pages, or else
// the pages that the total items fill at the number of items first held
// (the page size the server really uses). It returns nil when first is the
// last page or when no total is known. The plan is lazy: a total that lies
// high costs no memory, and the run still ends on the first empty page.
func (p *PageNumber[T]) Plan(pos paginate.Position, first paginate.PageInfo) iter.Seq[paginate.Position] {
	if _, err := p.state(); err != nil || !first.More || first.Next.Page == 0 || first.Items <= 0 {
		return nil
	}
	from, before, stride := first.Next.Page, first.Next.Offset, int64(first.Items)
	var last int64
	switch {
	case first.TotalPages > 0:
		last = p.firstPage() + first.TotalPages - 1
	case first.TotalItems > 0:
		last = from + ceilDiv(first.TotalItems-before, stride) - 1
	default:
		return nil
	}
	if p.MaxPage > 0 {
		last = min(last, p.MaxPage)
	}
	if last < from {
		return nil
	}
	return func(yield func(paginate.Position) bool) {
		for n := from; n <= last; n++ {
			if !yield(paginate.Position{Page: n, Offset: before + (n-from)*stride}) {
				return
			}
		}
	}
}
