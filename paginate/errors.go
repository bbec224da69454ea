package paginate

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// ErrLoop reports a pagination loop: a position requested twice in one run,
// or the same page served for two different positions. Test for it with
// errors.Is; the error is a *[LoopError] that names the positions.
var ErrLoop = errors.New("pagination loop")

// ErrRetriesExhausted reports that a fetch failed on every attempt the
// [Retry] policy allowed. The *[FetchError] that wraps it holds the last
// error.
var ErrRetriesExhausted = errors.New("retries exhausted")

// ErrNoNext reports a page that says more pages follow but gives no Next
// position: the paginator has lost its place.
var ErrNoNext = errors.New("page reports more pages but no next position")

// ErrPositionExpired reports that the API no longer knows a position it
// issued: a next URL, a token, a scroll id or a query locator that lives a
// few minutes (Salesforce's INVALID_QUERY_LOCATOR, Elasticsearch's
// search_context_missing_exception, a GraphQL cursor past its lifetime),
// as a sync resumed after a crash meets it. A paginator returns an error
// that matches it (errors.Is), permanent, for a fetch at a position other
// than the start; strategies.NextToken does so for the responses its
// Expired rules describe. [Run] then restarts the sync once from its last
// completed mark (Position.Since; the start for a full sync), which the
// destination already covers, and says so in Result.Expired and its log;
// a restarted sync whose position expires again fails with this error,
// and saves the checkpoint of a restart, so that no later run resumes at
// a position that no longer exists.
var ErrPositionExpired = errors.New("position expired")

// panicError carries a panic from a goroutine of the run to the caller's
// goroutine, where Run raises it again with the original stack in its
// message.
type panicError struct {
	value any
	stack []byte
}

func newPanicError(v any) *panicError { return &panicError{value: v, stack: debug.Stack()} }

func (p *panicError) Error() string {
	return fmt.Sprintf("paginate: panic in a fetch goroutine: %v\n\n%s", p.value, p.stack)
}

// Unwrap returns the panic value when it is an error.
func (p *panicError) Unwrap() error {
	err, _ := p.value.(error)
	return err
}

// LoopError is the error for a detected pagination loop.
type LoopError struct {
	// Position is the position requested again, or whose page repeated an
	// earlier page.
	Position Position
	// Earlier is the position first requested when a position repeated,
	// or the position of the page just before when that page repeated
	// (Previous). For a repeat of an older page it is the zero Position:
	// the run keeps no position per page, and Page names the page.
	Earlier Position
	// Page is the 1-based number, within this run, of the page requested
	// first or repeated; 0 when the page repeated is the last one
	// committed before this run resumed.
	Page int
	// SamePage is true when the positions differ but the pages are the same
	// (the same fingerprint: see Page.Fingerprint); false when a position
	// repeated.
	SamePage bool
	// Previous is true when the page repeated is the one just before: the
	// way servers that clamp past-the-end page numbers say that the data
	// has ended (see Options.Checks.RepeatedPageEnds).
	Previous bool
	// Items is, for a repeat of the page just before (Previous), how many
	// records the sync had delivered before the repeat, over all its runs,
	// and TotalItems how many the server last reported in all, zero when
	// it did not say.
	Items, TotalItems int64
	// Pages and TotalPages are the same in pages. They are set only in a
	// run that started at the beginning of the data: a resumed run does
	// not know how many pages its earlier runs read.
	Pages, TotalPages int64
}

// Error names the repeated position and the earlier page. For a repeat of
// the page just before, it says whether the server's totals had been
// reached: only then can the repeat be the end of the data.
func (e *LoopError) Error() string {
	if !e.SamePage {
		return fmt.Sprintf("pagination loop: %v was already requested as page %d of this run", e.Position, e.Page)
	}
	earlier := fmt.Sprintf("page %d of this run", e.Page)
	switch {
	case e.Page > 0 && (e.Previous || e.Earlier != (Position{})):
		earlier = fmt.Sprintf("%v (page %d of this run)", e.Earlier, e.Page)
	case e.Page == 0:
		earlier = "the last page committed before this run resumed"
	}
	s := fmt.Sprintf("pagination loop: %v returned the same page as %s", e.Position, earlier)
	if e.Previous {
		s += e.hint()
	}
	return s
}

// hint says what a repeat of the page just before means. Suggesting
// Options.Checks.RepeatedPageEnds where records are still to come would turn a
// loud failure into a sync that ends early, in silence.
func (e *LoopError) hint() string {
	const (
		ends  = ": if the server answers past-the-end pages with its last page, set Options.Checks.RepeatedPageEnds"
		wrong = ", so this is not the end of the data: Fetch ignored the position it was given (it reads its own counter or cursor, or started over after an error), or pages share state (a cache, a decode buffer or a slice kept across fetches)"
	)
	got, total, what := e.Items, e.TotalItems, "records"
	if total <= 0 {
		got, total, what = e.Pages, e.TotalPages, "pages"
	}
	switch {
	case total <= 0:
		return "; the server reported no total: if every record had arrived, the server answers past-the-end pages with its last page (set Options.Checks.RepeatedPageEnds); if not, Fetch ignored the position it was given, or pages share state"
	case got < total:
		return fmt.Sprintf("; %d of the server's %d %s were still to come", total-got, total, what) + wrong
	}
	return fmt.Sprintf("; all %d of the server's %s had arrived", total, what) + ends
}

// Is reports whether target is [ErrLoop].
func (e *LoopError) Is(target error) bool { return target == ErrLoop }

// FetchError is the error for a page that could not be fetched. It names the
// position, so a caller knows where the run stopped.
type FetchError struct {
	// Position is the position whose page could not be fetched.
	Position Position
	// Attempts is how many times the fetch was tried.
	Attempts int
	// Err is the last attempt's error. When retries ran out, the FetchError
	// also matches [ErrRetriesExhausted].
	Err       error
	exhausted bool
	// maxElapsed is Retry.MaxElapsed when it is what ran out.
	maxElapsed time.Duration
}

// Error names the position, the number of attempts and the last error.
func (e *FetchError) Error() string {
	s := "fetch " + e.Position.String()
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (%d attempts)", e.Attempts)
	}
	if e.exhausted {
		s += ": " + ErrRetriesExhausted.Error()
	}
	if e.maxElapsed > 0 {
		s += fmt.Sprintf(": Retry.MaxElapsed (%v) reached", e.maxElapsed)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the last attempt's error, and ErrRetriesExhausted when the
// retries ran out.
func (e *FetchError) Unwrap() []error {
	if e.exhausted {
		return []error{e.Err, ErrRetriesExhausted}
	}
	return []error{e.Err}
}

// Permanent marks err as not worth retrying: the runner stops at once
// instead of applying the [Retry] policy. It returns nil for a nil err, and
// errors.Is and errors.As see through it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return backoff.Permanent(err)
}

// IsPermanent reports whether err was marked with [Permanent] (or with
// backoff.Permanent).
func IsPermanent(err error) bool {
	var p *backoff.PermanentError
	return errors.As(err, &p)
}

// A RetryAfterer is an error that asks for a wait before the next attempt,
// such as a 429 or 503 with a Retry-After header. RetryAfterer may be
// implemented by an error a Fetch returns, or one it wraps: the [Retry]
// policy then waits that long (up to Retry.MaxRetryAfter) instead of its
// backoff, and pauses the run's other fetches too. A zero or negative
// delay asks for nothing. *strategies.HTTPError implements it.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// retryAfter returns the delay that err asks for, if any.
func retryAfter(err error) (time.Duration, bool) {
	var ra RetryAfterer
	if errors.As(err, &ra) {
		if d := ra.RetryAfter(); d > 0 {
			return d, true
		}
	}
	return 0, false
}
