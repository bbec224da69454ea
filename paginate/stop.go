package paginate

import "fmt"

// StopReason says why a run ended. Every [Result] carries one, so that an
// early stop is visible and testable instead of silent.
type StopReason int

// The reasons a run can end. A paginator sets one in [Page.Stop] when it
// reports the last page: usually one of the first six, or StopDepthLimit for
// a limit of its own (a maximum page number or offset, an API's depth
// limit). The runner sets the others.
const (
	// StopNone means the run has not stopped.
	StopNone StopReason = iota
	// StopLastPage means the paginator reported this page as the last
	// without a more specific reason.
	StopLastPage
	// StopEmptyPage means a page had no items.
	StopEmptyPage
	// StopTotalReached means the records or pages the server's total
	// announced have all been fetched.
	StopTotalReached
	// StopNoNextToken means the response carried no next token or URL.
	StopNoNextToken
	// StopHasMoreFalse means the response said has_more: false.
	StopHasMoreFalse
	// StopShortPage means a page held fewer items than asked for and the
	// paginator was told that short pages end the data.
	StopShortPage
	// StopMaxPages means Options.Limits.MaxPages was reached. The checkpoint
	// points at the next page, so the next run goes on from there.
	StopMaxPages
	// StopMaxItems means Options.Limits.MaxItems was reached, with the same
	// checkpoint as StopMaxPages.
	StopMaxItems
	// StopCancelled means the context was cancelled or its deadline passed.
	StopCancelled
	// StopLoopDetected means a position was requested twice, or the same
	// page was served for two positions.
	StopLoopDetected
	// StopError means a fetch, sink or store error ended the run.
	StopError
	// StopRepeatedPage means the server answered the position after the
	// last new page with that page again, as servers that clamp
	// past-the-end page numbers do, and Options.Checks.RepeatedPageEnds took it
	// for the end of the data. It counts as complete.
	StopRepeatedPage
	// StopDepthLimit means the paginator stopped at a limit of its own
	// (strategies.PageNumber.MaxPage, strategies.Offset.MaxOffset, an
	// API's depth limit) with records possibly left past it. Unlike
	// StopMaxPages, the checkpoint goes back to the start and the next
	// run keeps this run's Since, so that those records are read then.
	// A paginator that reports StopMaxPages or StopMaxItems in Page.Stop
	// gets this reason.
	StopDepthLimit
	// StopBreak means the body of a loop over [Pages], [All] or an
	// [Iterator] left the loop (a break or a return): nothing stopped the
	// run but the caller. The page being read counts as not done.
	StopBreak
)

var stopNames = [...]string{
	StopNone:         "none",
	StopLastPage:     "last page",
	StopEmptyPage:    "empty page",
	StopTotalReached: "total reached",
	StopNoNextToken:  "no next token",
	StopHasMoreFalse: "has_more false",
	StopShortPage:    "short page",
	StopMaxPages:     "max pages",
	StopMaxItems:     "max items",
	StopCancelled:    "cancelled",
	StopLoopDetected: "loop detected",
	StopError:        "error",
	StopRepeatedPage: "repeated page",
	StopDepthLimit:   "depth limit",
	StopBreak:        "loop left",
}

// String returns the reason in words, such as "empty page".
func (r StopReason) String() string {
	if r >= 0 && int(r) < len(stopNames) {
		return stopNames[r]
	}
	return fmt.Sprintf("StopReason(%d)", int(r))
}

// Complete reports whether r means the data was read to its end, as opposed
// to a limit, a cancellation or an error.
func (r StopReason) Complete() bool {
	return r >= StopLastPage && r <= StopShortPage || r == StopRepeatedPage
}

// MarshalText encodes r as its String form.
func (r StopReason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
