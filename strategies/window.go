package strategies

import (
	"fmt"
	"time"

	"github.com/pagekit/pagekit/paginate"
)

// Window is the incremental window a sync reads: the records changed since
// the last sync's high-water mark (its Since), and, with UntilParam, up to
// an end fixed at the sync's start. The zero Window sends no bounds: every
// sync reads everything. See docs/strategies.md for which bounds to choose,
// one layout for the marks, and whose clock ends a window.
type Window[T any] struct {
	// SinceParam is where the lower bound goes, such as
	// Query("updated_since") or Body("filter.updated_at.gte"): the sync's
	// Since (see paginate.Options.HighWater), or SinceDefault on the
	// first sync, less Lookback. The zero Param sends no bound.
	SinceParam Param

	// SinceDefault is the lower bound of the first sync, such as
	// "2020-01-01T00:00:00Z"; empty sends none.
	SinceDefault string

	// UntilParam, when set, is where the upper bound goes: Until() at
	// the start of the sync, formatted with TimeLayout. Positions carry
	// it, so a resumed sync reads the same window, and the next sync
	// starts exactly at its end.
	UntilParam Param

	// Until returns the end of a sync's window, called once at the start
	// of each sync. Nil means time.Now. It needs UntilParam.
	Until func() time.Time

	// BoundsOnFirstOnly sends the bounds on the first request of a sync
	// only, for APIs whose tokens carry them and refuse them beside it.
	BoundsOnFirstOnly bool

	// Lookback moves the lower bound back by this much, for APIs whose
	// updated_at becomes visible late; the records read again are
	// upserted. It needs the marks to parse with TimeLayout.
	Lookback time.Duration

	// TimeLayout is the layout of the bounds, for Lookback and UntilParam.
	// Empty means time.RFC3339 in UTC. With UntilParam it must be
	// fixed-width and sort as time does, as the records' marks must.
	TimeLayout string

	// NewestFirst, when set, says the API serves records newest first and
	// returns a record's mark in the form of Since: paging stops at the
	// first record below the lower bound, which is dropped with those
	// after it.
	NewestFirst func(T) string
}

// check reports what is wrong with the window.
func (w *Window[T]) check() error {
	switch {
	case w.Lookback < 0:
		return fmt.Errorf("%w: Lookback must not be negative", ErrConfig)
	case w.SinceParam.In == Nowhere && w.SinceParam.Name != "":
		return fmt.Errorf("%w: SinceParam %q goes nowhere", ErrConfig, w.SinceParam.Name)
	case w.Lookback > 0 && !w.SinceParam.sent() && w.NewestFirst == nil:
		return fmt.Errorf("%w: Lookback needs SinceParam or NewestFirst", ErrConfig)
	case w.SinceDefault != "" && !w.SinceParam.sent() && w.NewestFirst == nil:
		return fmt.Errorf("%w: SinceDefault needs SinceParam or NewestFirst", ErrConfig)
	case w.UntilParam.In == Nowhere && w.UntilParam.Name != "":
		return fmt.Errorf("%w: UntilParam %q goes nowhere", ErrConfig, w.UntilParam.Name)
	case w.Until != nil && !w.UntilParam.sent():
		return fmt.Errorf("%w: Until needs UntilParam, where the window's end goes", ErrConfig)
	}
	if w.UntilParam.sent() {
		if err := checkMarkLayout(w.layout()); err != nil {
			return err
		}
	}
	if w.SinceDefault != "" && w.Lookback > 0 {
		if _, err := time.Parse(w.layout(), w.SinceDefault); err != nil {
			return fmt.Errorf("%w: SinceDefault %q does not parse with TimeLayout %q, which Lookback needs", ErrConfig, w.SinceDefault, w.layout())
		}
	}
	return nil
}

// sendsSince reports whether a sync's requests are bounded below by its
// Since: sent as SinceParam, or applied by NewestFirst.
func (w *Window[T]) sendsSince() bool {
	return w.SinceParam.sent() || w.NewestFirst != nil
}

func (w *Window[T]) layout() string {
	if w.TimeLayout == "" {
		return time.RFC3339
	}
	return w.TimeLayout
}

// lower returns the lower bound of the window a fetch at pos reads: the
// sync's Since, or SinceDefault, less Lookback.
func (w *Window[T]) lower(pos paginate.Position) (string, error) {
	s := since(pos, w.SinceDefault)
	if s == "" || w.Lookback <= 0 {
		return s, nil
	}
	t, err := time.Parse(w.layout(), s)
	if err != nil {
		return "", paginate.Permanent(fmt.Errorf("%w: the mark %q does not parse with TimeLayout %q, which Lookback needs", ErrConfig, s, w.layout()))
	}
	return t.Add(-w.Lookback).UTC().Format(w.layout()), nil
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
func (w *Window[T]) windowEnd(pos paginate.Position, end string) string {
	if !w.UntilParam.sent() {
		return ""
	}
	if end != "" && !pos.IsStart() {
		return end
	}
	now := time.Now
	if w.Until != nil {
		now = w.Until
	}
	return now().UTC().Format(w.layout())
}

// keepsEnd reports whether the sync's positions must carry the window's
// end: whenever an upper bound is sent, for the later requests that send
// it too and for the last page, which reports it.
func (w *Window[T]) keepsEnd() bool {
	return w.UntilParam.sent()
}

// closeWindow sets the mark of out, a page fetched at pos, when it ends a
// sync that read its whole window: the window's end, so that the next sync
// starts there. carried is the end pos carried, end the one the fetch
// used. A sync ended at a depth limit left records behind, and an end
// that pos did not carry (a position saved by an older version) is not
// the one the sync's first request sent: neither is vouched for.
func (w *Window[T]) closeWindow(out *paginate.Page[T], pos paginate.Position, carried, end string) {
	if out.More || out.Stop == paginate.StopDepthLimit || end == "" || carried == "" && !pos.IsStart() {
		return
	}
	out.HighWater = end
}

// bounds returns the values of the window to send with a fetch at pos, by
// role, and the window's end for the positions after it.
func (w *Window[T]) bounds(vals *[numRoles]string, pos paginate.Position, end string) (string, error) {
	end = w.windowEnd(pos, end)
	if w.BoundsOnFirstOnly && !pos.IsStart() {
		return end, nil
	}
	lo, err := w.lower(pos)
	if err != nil {
		return "", err
	}
	vals[roleSince], vals[roleUntil] = lo, end
	return end, nil
}

// cut applies NewestFirst to the records of a page read at pos: it returns
// those at or above the window's lower bound, and whether some were below
// it, which ends the sync.
func (w *Window[T]) cut(items []T, pos paginate.Position) ([]T, bool, error) {
	if w.NewestFirst == nil {
		return items, false, nil
	}
	lo, err := w.lower(pos)
	if err != nil || lo == "" {
		return items, false, err
	}
	for i := range items {
		if w.NewestFirst(items[i]) < lo {
			return items[:i], true, nil
		}
	}
	return items, false, nil
}
