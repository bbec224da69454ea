package strategies

import "github.com/pagekit/pagekit/paginate"

// An ending is what one page says about the end of the data, as a
// strategy reads it. stop decides from it, in one order for every
// strategy, whether the page ends the sync and why (see the package
// documentation, "How a sync ends").
type ending struct {
	below   bool  // Window.NewestFirst met a record below the lower bound
	hasMore *bool // the response's has-more flag, nil when it said none
	tokens  bool  // the strategy is led by next tokens or URLs (NextToken)
	next    bool  // the response named the next page (a token or URL)
	totals  totals
	empty   bool // the page delivers no records
	depth   bool // the page is at the strategy's depth limit (MaxPage, MaxOffset)
	short   bool // the page holds fewer records than Size
	last    bool // the strategy knows the page is the last (an inclusive cursor's short page of ties)
}

// totals is what a page's totals say about the pages after it.
type totals int8

const (
	totalsUnknown totals = iota // no total, or none that bounds the pages left
	totalsMore                  // the totals announce pages after this one
	totalsReached               // the page reaches the totals
)

// stop returns why the page e describes ends the sync, or StopNone when
// more pages follow: the first rule that holds, in the order of the
// package documentation ("How a sync ends"), which the cases follow.
func (s *Shape[T]) stop(e ending) paginate.StopReason {
	switch {
	case e.below:
		return paginate.StopLastPage
	case e.hasMore != nil && !*e.hasMore:
		return paginate.StopHasMoreFalse
	case e.tokens && !e.next:
		return paginate.StopNoNextToken
	case e.totals == totalsReached:
		return paginate.StopTotalReached
	case e.empty && (s.EmptyPageEnds || e.totals != totalsMore && !e.next):
		return paginate.StopEmptyPage
	case e.depth:
		return paginate.StopDepthLimit
	case e.short && s.ShortPageEnds:
		return paginate.StopShortPage
	case e.last:
		return paginate.StopLastPage
	}
	return paginate.StopNone
}
