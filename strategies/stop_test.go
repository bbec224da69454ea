package strategies

import (
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

// The one rule that decides why a page ends a sync, for all four
// strategies: each row is a page as a strategy reads it, and the reason
// it stops, in the documented order of precedence.
func TestStop(t *testing.T) {
	no, yes := new(bool), new(bool)
	*yes = true
	tests := []struct {
		name          string
		e             ending
		emptyPageEnds bool
		shortPageEnds bool
		want          paginate.StopReason
	}{
		{name: "a full page, nothing said", e: ending{}, want: paginate.StopNone},
		{name: "has-more true", e: ending{hasMore: yes}, want: paginate.StopNone},
		{name: "below the window", e: ending{below: true}, want: paginate.StopLastPage},
		{name: "below the window wins over has-more false", e: ending{below: true, hasMore: no, totals: totalsReached}, want: paginate.StopLastPage},
		{name: "has-more false", e: ending{hasMore: no}, want: paginate.StopHasMoreFalse},
		{name: "has-more false wins over the totals", e: ending{hasMore: no, totals: totalsMore}, want: paginate.StopHasMoreFalse},
		{name: "has-more false wins over an empty page", e: ending{hasMore: no, empty: true}, want: paginate.StopHasMoreFalse},
		{name: "no next token", e: ending{tokens: true}, want: paginate.StopNoNextToken},
		{name: "no next token on an empty page", e: ending{tokens: true, empty: true}, want: paginate.StopNoNextToken},
		{name: "a next token", e: ending{tokens: true, next: true}, want: paginate.StopNone},
		{name: "totals reached", e: ending{totals: totalsReached}, want: paginate.StopTotalReached},
		{name: "totals reached on an empty page", e: ending{totals: totalsReached, empty: true}, want: paginate.StopTotalReached},
		{name: "totals reached wins over the depth limit", e: ending{totals: totalsReached, depth: true}, want: paginate.StopTotalReached},
		{name: "an empty page", e: ending{empty: true}, want: paginate.StopEmptyPage},
		{name: "an empty page, totals that bound nothing", e: ending{empty: true, totals: totalsUnknown}, want: paginate.StopEmptyPage},
		{name: "the totals win over an empty page", e: ending{empty: true, totals: totalsMore}, want: paginate.StopNone},
		{name: "a next token wins over an empty page", e: ending{tokens: true, next: true, empty: true}, want: paginate.StopNone},
		{name: "an empty page ends when told, over the totals", e: ending{empty: true, totals: totalsMore}, emptyPageEnds: true, want: paginate.StopEmptyPage},
		{name: "an empty page ends when told, over a token", e: ending{tokens: true, next: true, empty: true}, emptyPageEnds: true, want: paginate.StopEmptyPage},
		{name: "an empty page wins over the depth limit", e: ending{empty: true, depth: true}, want: paginate.StopEmptyPage},
		{name: "the depth limit, the totals saying more", e: ending{empty: true, totals: totalsMore, depth: true}, want: paginate.StopDepthLimit},
		{name: "the depth limit", e: ending{depth: true}, want: paginate.StopDepthLimit},
		{name: "the depth limit wins over a short page", e: ending{depth: true, short: true}, shortPageEnds: true, want: paginate.StopDepthLimit},
		{name: "a short page", e: ending{short: true}, want: paginate.StopNone},
		{name: "a short page ends when told", e: ending{short: true}, shortPageEnds: true, want: paginate.StopShortPage},
		{name: "a short page wins over the strategy's last", e: ending{short: true, last: true}, shortPageEnds: true, want: paginate.StopShortPage},
		{name: "the strategy's last", e: ending{last: true}, want: paginate.StopLastPage},
		{name: "the strategy's last, after has-more false", e: ending{last: true, hasMore: no}, want: paginate.StopHasMoreFalse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Shape[int]{EmptyPageEnds: tt.emptyPageEnds, ShortPageEnds: tt.shortPageEnds}
			if got := s.stop(tt.e); got != tt.want {
				t.Errorf("stop(%+v) = %v, want %v", tt.e, got, tt.want)
			}
		})
	}
}
