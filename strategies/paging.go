package strategies

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/pagekit/pagekit/paginate"
)

// Paging holds the settings the four strategies share beyond [HTTP]: the
// page size, the incremental window, and where a response keeps its
// records, totals and has-more flag. It is embedded in each strategy, like
// HTTP:
//
//	p := &strategies.PageNumber[User]{
//		HTTP:   strategies.HTTP{URL: "https://api.example.com/v1/users"},
//		Paging: strategies.Paging[User]{Size: 100, ItemsPath: "data", TotalPagesPath: "meta.pages"},
//	}
type Paging[T any] struct {
	// Size is the page size to ask for; zero leaves it to the server and
	// sends nothing.
	Size int
	// SizeParam is where Size goes. The zero Param is the query
	// parameter "limit"; Param{In: Nowhere} sends no size, for a server
	// whose page size is fixed at Size.
	SizeParam Param

	// SinceParam is where the incremental lower bound goes, such as
	// Query("updated_since") or Body("filter.updated_at.gte"): the
	// Since of the sync (the last sync's high-water mark, see
	// paginate.Options.HighWater), or SinceDefault on the first sync,
	// less Lookback. The zero Param sends no bound.
	SinceParam   Param
	SinceDefault string
	// UntilParam, when set, is where the upper bound of the window goes:
	// Until() at the start of the sync, formatted with TimeLayout. The
	// value is kept in the sync's positions, so a sync resumed after a
	// crash reads the same window, and the last page of a complete sync
	// reports it as its paginate.Page.HighWater: the next sync starts
	// exactly at this one's end. Pair it with an inclusive lower bound
	// (updated_since >=); the end may be exclusive (the windows then
	// share no record) or inclusive (the records at the end are read
	// again and upserted). An exclusive lower bound needs an inclusive
	// end, or the records at exactly the end are never read. Records the
	// API stamps below the end after the window was read (this machine's
	// clock ahead of the API's, writes that show up late) are read by the
	// next sync only within Lookback: for such an API, close the window
	// in the past with Until, or set Lookback.
	UntilParam Param
	// Until returns the end of a sync's window, called once at the start
	// of each sync. Nil means time.Now. It needs UntilParam.
	Until func() time.Time
	// BoundsOnFirstOnly sends the window's bounds on the first request
	// of a sync only, for APIs whose later requests carry them in a
	// token and refuse them beside it ("You can only use
	// 'updated_since' in first request").
	BoundsOnFirstOnly bool
	// Lookback moves the lower bound sent back by this much, for APIs
	// whose updated_at becomes visible late: the records in the lookback
	// are read again and upserted. It needs TimeLayout to read the mark.
	Lookback time.Duration
	// TimeLayout is the time layout of the bounds (Since, SinceDefault
	// and Until's value), for Lookback and UntilParam. Empty means
	// time.RFC3339, in UTC: "2006-01-02T15:04:05Z". With UntilParam the
	// window's end becomes the next sync's mark and is compared as a
	// string with the records' marks (paginate.Options.HighWater), so
	// the layout must be fixed-width and sort as time does (Validate
	// checks), and the records' marks must be formatted with it too.
	// Times are formatted in UTC.
	TimeLayout string
	// NewestFirst, when set, says the API serves records newest first
	// and returns a record's mark in the form of the sync's Since (as
	// paginate.Options.HighWater does): paging stops at the first record
	// whose mark is below the lower bound, which is dropped with those
	// after it. The runner's high-water mark is the newest record of the
	// whole sync, so the next sync starts there (or at the window's end,
	// when UntilParam sends one and it is later).
	NewestFirst func(T) string

	// ItemsPath is the path of the records in the body (see the package
	// documentation for paths); empty means the body is the array.
	ItemsPath string
	// TotalItemsPath and TotalPagesPath are the paths of the totals, for
	// the stop rules and progress; empty ones are not read, and an absent
	// or null value is unknown. TotalItemsHeader and TotalPagesHeader
	// name response headers with them, such as "X-Total-Count" or
	// "Content-Range", read when the body gave none.
	TotalItemsPath   string
	TotalPagesPath   string
	TotalItemsHeader string
	TotalPagesHeader string
	// HasMorePath is the path of a value that says whether more pages
	// follow, read as HasMoreIf says.
	HasMorePath string
	HasMoreIf   HasMoreRule

	// Decode, when set, reads responses instead of the paths above (see
	// [Response]).
	Decode func(*http.Response) (Response[T], error)
}

// HasMoreRule says how to read the value at Paging.HasMorePath.
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
func (pg *Paging[T]) source(page, next, nextHeader, linkRel string) (*source[T], error) {
	if pg.HasMoreIf < MoreIfTrue || pg.HasMoreIf > MoreIfNotNull {
		return nil, fmt.Errorf("%w: HasMoreIf %d is not a HasMoreRule", ErrConfig, pg.HasMoreIf)
	}
	return sourceSpec[T]{
		paths:            [numSlots]string{pg.ItemsPath, pg.TotalItemsPath, pg.TotalPagesPath, page, pg.HasMorePath, next},
		decode:           pg.Decode,
		totalHeader:      pg.TotalItemsHeader,
		totalPagesHeader: pg.TotalPagesHeader,
		nextHeader:       nextHeader,
		linkRel:          linkRel,
		hasMoreIf:        pg.HasMoreIf,
	}.compile()
}

// check reports what is wrong with the shared settings.
func (pg *Paging[T]) check() error {
	switch {
	case pg.Size < 0:
		return fmt.Errorf("%w: Size must not be negative", ErrConfig)
	case pg.Lookback < 0:
		return fmt.Errorf("%w: Lookback must not be negative", ErrConfig)
	case pg.SinceParam.In == Nowhere && pg.SinceParam.Name != "":
		return fmt.Errorf("%w: SinceParam %q goes nowhere", ErrConfig, pg.SinceParam.Name)
	case pg.Lookback > 0 && !pg.SinceParam.sent() && pg.NewestFirst == nil:
		return fmt.Errorf("%w: Lookback needs SinceParam or NewestFirst", ErrConfig)
	case pg.SinceDefault != "" && !pg.SinceParam.sent() && pg.NewestFirst == nil:
		return fmt.Errorf("%w: SinceDefault needs SinceParam or NewestFirst", ErrConfig)
	case pg.UntilParam.In == Nowhere && pg.UntilParam.Name != "":
		return fmt.Errorf("%w: UntilParam %q goes nowhere", ErrConfig, pg.UntilParam.Name)
	case pg.Until != nil && !pg.UntilParam.sent():
		return fmt.Errorf("%w: Until needs UntilParam, where the window's end goes", ErrConfig)
	}
	if pg.UntilParam.sent() {
		if err := checkMarkLayout(pg.layout()); err != nil {
			return err
		}
	}
	if pg.SinceDefault != "" && pg.Lookback > 0 {
		if _, err := time.Parse(pg.layout(), pg.SinceDefault); err != nil {
			return fmt.Errorf("%w: SinceDefault %q does not parse with TimeLayout %q, which Lookback needs", ErrConfig, pg.SinceDefault, pg.layout())
		}
	}
	return nil
}

// sendsSince reports whether a sync's requests are bounded below by its
// Since: sent as SinceParam, or applied by NewestFirst.
func (pg *Paging[T]) sendsSince() bool {
	return pg.SinceParam.sent() || pg.NewestFirst != nil
}

func (pg *Paging[T]) layout() string {
	if pg.TimeLayout == "" {
		return time.RFC3339
	}
	return pg.TimeLayout
}

// lower returns the lower bound of the window a fetch at pos reads: the
// sync's Since, or SinceDefault, less Lookback.
func (pg *Paging[T]) lower(pos paginate.Position) (string, error) {
	s := since(pos, pg.SinceDefault)
	if s == "" || pg.Lookback <= 0 {
		return s, nil
	}
	t, err := time.Parse(pg.layout(), s)
	if err != nil {
		return "", paginate.Permanent(fmt.Errorf("%w: the mark %q does not parse with TimeLayout %q, which Lookback needs", ErrConfig, s, pg.layout()))
	}
	return t.Add(-pg.Lookback).UTC().Format(pg.layout()), nil
}

// layoutProbe are times in order whose forms in a mark's layout must be
// as wide as each other and in the same order: they differ in every field
// and cross the boundaries where a layout that does not sort (a month
// name, a clock before the date) or that trims zeros (".999") shows it.
var layoutProbe = []time.Time{
	time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(2000, 1, 1, 0, 0, 0, 120_000_000, time.UTC),
	time.Date(2009, 2, 3, 4, 5, 6, 700_000_000, time.UTC),
	time.Date(2009, 11, 10, 23, 0, 0, 0, time.UTC),
	time.Date(2024, 9, 30, 13, 7, 58, 123_456_789, time.UTC),
}

// checkMarkLayout reports whether times formatted with layout compare as
// strings as they do as times, and parse back.
func checkMarkLayout(layout string) error {
	prev := layoutProbe[0].Format(layout)
	first := prev
	for _, t := range layoutProbe[1:] {
		s := t.Format(layout)
		switch {
		case len(s) != len(prev):
			return fmt.Errorf("%w: TimeLayout %q formats times in varying widths (%q, %q); the window's end is a mark compared as a string, so the layout must be fixed-width, such as %q",
				ErrConfig, layout, prev, s, "2006-01-02T15:04:05.000Z07:00")
		case s < prev:
			return fmt.Errorf("%w: TimeLayout %q does not sort as time does (%q comes before %q); the window's end is a mark compared as a string",
				ErrConfig, layout, s, prev)
		}
		if _, err := time.Parse(layout, s); err != nil {
			return fmt.Errorf("%w: TimeLayout %q does not parse its own %q: %v", ErrConfig, layout, s, err)
		}
		prev = s
	}
	if prev == first {
		return fmt.Errorf("%w: TimeLayout %q formats every time the same (%q)", ErrConfig, layout, prev)
	}
	return nil
}

// windowEnd returns the end of the sync's window for a fetch at pos: end,
// as the sync's positions carry it, or a new one at the start of a sync.
// It is empty when no upper bound is sent.
func (pg *Paging[T]) windowEnd(pos paginate.Position, end string) string {
	if !pg.UntilParam.sent() {
		return ""
	}
	if end != "" && !pos.IsStart() {
		return end
	}
	now := time.Now
	if pg.Until != nil {
		now = pg.Until
	}
	return now().UTC().Format(pg.layout())
}

// keepsEnd reports whether the sync's positions must carry the window's
// end: whenever an upper bound is sent, for the later requests that send
// it too and for the last page, which reports it.
func (pg *Paging[T]) keepsEnd() bool {
	return pg.UntilParam.sent()
}

// closeWindow sets the mark of out, a page fetched at pos, when it ends a
// sync that read its whole window: the window's end, so that the next sync
// starts there. carried is the end pos carried, end the one the fetch
// used. A sync ended at a depth limit left records behind, and an end
// that pos did not carry (a position saved by an older version) is not
// the one the sync's first request sent: neither is vouched for.
func (pg *Paging[T]) closeWindow(out *paginate.Page[T], pos paginate.Position, carried, end string) {
	if out.More || out.Stop == paginate.StopDepthLimit || end == "" || carried == "" && !pos.IsStart() {
		return
	}
	out.HighWater = end
}

// bounds returns the values of the window to send with a fetch at pos, by
// role, and the window's end for the positions after it.
func (pg *Paging[T]) bounds(vals *[numRoles]string, pos paginate.Position, end string) (string, error) {
	end = pg.windowEnd(pos, end)
	if pg.BoundsOnFirstOnly && !pos.IsStart() {
		return end, nil
	}
	lo, err := pg.lower(pos)
	if err != nil {
		return "", err
	}
	vals[roleSince], vals[roleUntil] = lo, end
	return end, nil
}

// size returns the page size to send, or "".
func (pg *Paging[T]) size() string {
	if pg.Size <= 0 {
		return ""
	}
	return strconv.Itoa(pg.Size)
}

// cut applies NewestFirst to the records of a page read at pos: it returns
// those at or above the window's lower bound, and whether some were below
// it, which ends the sync.
func (pg *Paging[T]) cut(items []T, pos paginate.Position) ([]T, bool, error) {
	if pg.NewestFirst == nil {
		return items, false, nil
	}
	lo, err := pg.lower(pos)
	if err != nil || lo == "" {
		return items, false, err
	}
	for i := range items {
		if pg.NewestFirst(items[i]) < lo {
			return items[:i], true, nil
		}
	}
	return items, false, nil
}

// windowParams returns the placements of the window and the size, with
// their defaults.
func (pg *Paging[T]) windowParams(params *[numRoles]Param) {
	params[roleSince] = pg.SinceParam
	params[roleUntil] = pg.UntilParam
	params[roleSize] = pg.SizeParam.or(Query("limit"))
}
