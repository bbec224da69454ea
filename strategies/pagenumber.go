package strategies

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"github.com/pagekit/pagekit/paginate"
)

// PageNumber is a paginator for APIs that number their pages, such as
// ?page=3&per_page=50: GitHub without Link headers, WordPress, Jamf,
// json-server, the mock API of package mockapi. It is also a
// [paginate.Planner]: once the first page reports a total, the runner can
// fetch the other pages in parallel.
//
// It stops as every strategy does (see "How a sync ends" in the package
// documentation), at MaxPage with StopDepthLimit. An empty page within the
// pages the totals announce does not end the sync unless
// Response.EmptyPageEnds says so. A response whose page number differs from
// the one requested fails with ErrPageMismatch.
//
// The zero Position is the first page. Next holds the following page
// number in Page and the number of records before it in Offset, which makes
// the total-items stop exact whatever the page sizes were; a position with
// Offset 0 past the first page is accepted too (it only makes that stop
// later). Configure it before the first Fetch and do not change it
// afterwards.
type PageNumber[T any] struct {
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

	// PageParam is where the page number goes; the zero Param is the
	// query parameter "page".
	PageParam Param
	// FirstPage is the number of the first page. Zero means 1, or 0 with
	// ZeroBased.
	FirstPage int64
	// ZeroBased says the first page is page 0.
	ZeroBased bool
	// OmitFirstPage leaves the page parameter out of the first page's
	// request, which then relies on the server's default.
	OmitFirstPage bool
	// PagePath is the path of the page number the server says it served;
	// empty means it is not read.
	PagePath string
	// MaxPage, when positive, is the last page number fetched; the run
	// then ends with StopDepthLimit.
	MaxPage int64

	lazy lazy[T]
}

func (p *PageNumber[T]) parts() parts[T] {
	return parts[T]{&p.Request, &p.Response, &p.Window, &p.Limits, p.Size, p.SizeParam}
}

func (p *PageNumber[T]) state() (*state[T], error) { return p.lazy.get(p.compile) }

func (p *PageNumber[T]) compile() (*state[T], error) {
	switch {
	case p.MaxPage < 0 || p.FirstPage < 0:
		return nil, fmt.Errorf("%w: PageNumber FirstPage and MaxPage must not be negative", ErrConfig)
	case p.ZeroBased && p.FirstPage != 0:
		return nil, fmt.Errorf("%w: PageNumber takes FirstPage or ZeroBased, not both", ErrConfig)
	case p.MaxPage > 0 && p.MaxPage < p.firstPage():
		return nil, fmt.Errorf("%w: PageNumber.MaxPage %d is before the first page %d", ErrConfig, p.MaxPage, p.firstPage())
	case p.PageParam.In == Nowhere:
		return nil, fmt.Errorf("%w: PageNumber must send the page number", ErrConfig)
	}
	params := p.parts().params()
	params[rolePos] = p.pageParam()
	st, err := compileState(p.parts(), params, [numRoles]bool{roleSize: true, rolePos: true}, InQuery,
		p.PagePath, "", "", "")
	return byDefault(st, err, p.PageParam, params[rolePos], "PageNumber.PageParam")
}

func (p *PageNumber[T]) pageParam() Param { return p.PageParam.or(Query("page")) }

func (p *PageNumber[T]) firstPage() int64 {
	if p.FirstPage > 0 {
		return p.FirstPage
	}
	if p.ZeroBased {
		return 0
	}
	return 1
}

// Describe says that PageNumber reads by position, and whether its
// requests send the sync's Since (SinceParam, or NewestFirst), so that
// paginate.Run tracks the keys of an incremental sync (see
// paginate.Describer). Newest first, a change moves records to the
// front, before the position: the records after it shift towards the
// end, and one may come twice, but none is skipped.
func (p *PageNumber[T]) Describe() paginate.Description {
	return paginate.Description{ByPosition: p.Window.NewestFirst == nil, SendsSince: p.Window.sendsSince()}
}

// Validate reports what is wrong with the configuration, as the first
// Fetch would; paginate.Run calls it before the first request.
func (p *PageNumber[T]) Validate() error { return p.lazy.validate(p.compile) }

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
	if pos.Offset < 0 || page < first || pos.Token != "" && !p.Window.keepsEnd() {
		return paginate.Page[T]{}, badPosition("page-number", pos)
	}
	var vals [numRoles]string
	end, err := p.Window.bounds(&vals, pos, pos.Token)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	vals[roleSize] = p.parts().sizeValue()
	if !p.OmitFirstPage || page != first {
		vals[rolePos] = strconv.FormatInt(page, 10)
	}
	resp, r, err := st.fetch(ctx, vals, nil, "", nil, p.Size)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	if r.Page != 0 && r.Page != page {
		return paginate.Page[T]{}, responseError(resp, fmt.Errorf("%w: asked for page %d, got page %d", ErrPageMismatch, page, r.Page))
	}
	items, below, err := p.Window.cut(r.Items, pos)
	if err != nil {
		return paginate.Page[T]{}, err
	}
	out := paginate.Page[T]{Items: items, TotalItems: r.TotalItems, TotalPages: r.TotalPages}
	if len(items) == len(r.Items) {
		out.Fingerprint = r.print
	}
	n := page - first + 1 // this page's rank: 1 for the first page
	after := pos.Offset + int64(len(r.Items))
	out.Stop = p.Response.stop(ending{
		below:   below,
		hasMore: r.HasMore,
		totals:  p.totals(r, n, after),
		empty:   len(r.Items) == 0,
		depth:   p.MaxPage > 0 && page >= p.MaxPage,
		short:   p.Size > 0 && len(r.Items) < p.Size,
	})
	if out.Stop == paginate.StopNone {
		out.More = true
		out.Next = paginate.Position{Page: page + 1, Offset: after}
		if p.Window.keepsEnd() {
			out.Next.Token = end
		}
	}
	p.Window.closeWindow(&out, pos, pos.Token, end)
	return out, nil
}

// totals says what r's totals say after the page of rank n, with after
// records up to its end. Only a bound on the pages left announces more,
// so that a walk over empty pages ends: the total pages, or the pages the
// total items fill at Size.
func (p *PageNumber[T]) totals(r Response[T], n, after int64) totals {
	switch {
	case r.TotalPages > 0 && n >= r.TotalPages, r.TotalItems > 0 && after >= r.TotalItems:
		return totalsReached
	case r.TotalPages > 0, r.TotalItems > 0 && p.Size > 0 && n < ceilDiv(r.TotalItems, int64(p.Size)):
		return totalsMore
	}
	return totalsUnknown
}

// Plan returns the positions of the pages after first, the page fetched at
// pos, up to the last page its totals announce: the total pages, or else
// the pages that the total items fill at the number of items first held
// (the page size the server really uses). It returns nil when first is the
// last page or when no total is known. The plan is lazy: a total that lies
// high costs no memory.
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
	end := first.Next.Token // the window's end, which every page carries
	return func(yield func(paginate.Position) bool) {
		for n := from; n <= last; n++ {
			if !yield(paginate.Position{Page: n, Offset: before + (n-from)*stride, Token: end}) {
				return
			}
		}
	}
}
