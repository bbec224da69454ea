package paginatetest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// clues are what the suite knows of a sync besides its table, for the
// guesses at what lost the records it misses.
type clues[T any] struct {
	// stop is how the sync's last run ended.
	stop paginate.StopReason
	// mark is Options.HighWater, nil when unset.
	mark func(T) string
	// last is the last run of a rerun check, nil elsewhere.
	last *lastRun
	// selects returns the keys of the records the oracle lists for a
	// request, as it stands now; nil without an oracle.
	selects func(*request) (map[string]bool, error)
}

// lastRun is the last run of a rerun check: an incremental sync on a quiet
// source, after every change.
type lastRun struct {
	n     int      // its number in the check
	since string   // the Since it started from
	first *request // its first request
}

// compare fails t, in a connector author's terms and with a go-cmp diff,
// when got is not the truth. what names the sync ("full sync").
func (s *kit[T]) compare(t testingT, what string, tr *truth[T], got *table[T], c clues[T]) {
	t.Helper()
	if len(tr.order) > 0 {
		s.checked.Add(1)
	}
	diff := gocmp.Diff(tr.table.sorted(), got.sorted())
	if diff == "" {
		return
	}
	c.mark = s.Options.HighWater
	if s.Want == nil && s.NoOracle == "" {
		c.selects = func(req *request) (map[string]bool, error) {
			a, err := s.ask(req)
			return a.keys(s.Key), err
		}
	}
	t.Errorf("%s: %s\n\nthe synced table against %s, by key (-want +got):\n%s", what, tr.explain(got, c), tr.source, diff)
}

// explain says how got differs from the truth: how many records are
// missing and where in the listing, which ones are not the truth's, which
// ones arrived with other values.
func (tr *truth[T]) explain(got *table[T], c clues[T]) string {
	var missing []int // 1-based positions in the listing
	for i, k := range tr.order {
		if _, ok := got.rows[k]; !ok {
			missing = append(missing, i+1)
		}
	}
	var extra, changed []string
	for _, k := range got.order {
		want, ok := tr.table.rows[k]
		switch {
		case !ok:
			extra = append(extra, k)
		case !gocmp.Equal(want, got.rows[k]):
			changed = append(changed, k)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "delivered %d of the %d records the API holds", len(tr.order)-len(missing), len(tr.order))
	if len(missing) > 0 {
		keys := make([]string, len(missing))
		for i, p := range missing {
			keys[i] = tr.order[p-1]
		}
		fmt.Fprintf(&b, "\n\tmissing %d, at %s of %d in the API's order (keys %s):\n\t%s",
			len(missing), positions(missing), len(tr.order), quoted(keys), tr.missingHint(missing, got, c))
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "\n\t%s that the API does not list (keys %s): the paginator read another listing, another endpoint or filter", records(len(extra)), quoted(extra))
	}
	if len(changed) > 0 {
		hint := "check how the paginator decodes them"
		if tr.mutated {
			hint = "updates that no later sync delivered"
		}
		fmt.Fprintf(&b, "\n\t%s arrived with other values than the API holds (keys %s): %s", records(len(changed)), quoted(changed), hint)
	}
	return b.String()
}

// missingHint guesses the bug that loses the records at positions missing:
// from what the sync's first request asked for, how it ended, the records'
// marks, and where the missing records are.
func (tr *truth[T]) missingHint(missing []int, got *table[T], c clues[T]) string {
	first, last, n := missing[0], missing[len(missing)-1], len(tr.order)
	run := last-first+1 == len(missing)
	switch {
	case tr.filter != "":
		return "the full sync's first request filters them out (see above)"
	case run && last == n && c.stop == paginate.StopRepeatedPage:
		return fmt.Sprintf("the sync took a page that repeated the one before it for the end of the data (Options.Checks.RepeatedPageEnds) with %s still to come: the server was not answering past the end there. Fetch ignored the position it was given (it reads its own counter or cursor, or started over after an error), or pages share state (a cache, a decode buffer or a slice kept across fetches)", records(len(missing)))
	}
	if c.mark != nil {
		if h := tr.markHint(missing, got, c); h != "" {
			return h
		}
	}
	switch {
	case run && first == 1:
		return fmt.Sprintf("the start of the listing never arrived; the full sync's first request was %s: does the paginator ask for the first page (page 1, offset 0, no cursor) first?", tr.first)
	case run && last == n:
		return "the end of the listing never arrived: the sync stopped early. A paginator that takes a short page for the last one, or counts pages as the total divided by the page size rounded down, misses the last page"
	}
	if step := evenStep(missing); step > 1 {
		return fmt.Sprintf("one record in every %d never arrived: the paginator steps over a record between pages, as an offset advanced by the page's length plus one, or a cursor that skips the record after the one it points at, does", step)
	}
	return "records are missing from the middle of the listing: the paginator skips records between pages"
}

// markHint names the mark that lost the missing records, by their marks
// (Options.HighWater) and what the last run asked for, or returns "".
func (tr *truth[T]) markHint(missing []int, got *table[T], c clues[T]) string {
	marks := make([]string, len(missing))
	for i, p := range missing {
		marks[i] = c.mark(tr.table.rows[tr.order[p-1]])
	}
	// A tie: every missing record shares its mark with a record before it
	// in the listing that did arrive, as the records after a cursor that
	// is exclusive at their mark do; records lost ahead of those that
	// share their mark (a batch of updates that shifted) are not.
	var shared []string
	arrived := make(map[string]bool) // marks of the records delivered so far in the listing
	for _, k := range tr.order {
		m := c.mark(tr.table.rows[k])
		if _, ok := got.rows[k]; ok {
			arrived[m] = true
			continue
		}
		if !arrived[m] {
			shared = nil
			break
		}
		if !slices.Contains(shared, m) {
			shared = append(shared, m)
		}
	}
	if len(shared) > 0 {
		return fmt.Sprintf("each of them has the mark (Options.HighWater) of a record before it in the listing that did arrive (%s): records that share a mark were lost at a page or sync boundary, as a cursor or filter that is exclusive (>) at a mark several records share loses those it had not read yet. Filter inclusively (>=) and drop by key the records at the mark already delivered (strategies.Cursor does with Inclusive and Key)", quoted(shared))
	}
	lr := c.last
	if lr == nil || lr.since == "" || c.selects == nil {
		return ""
	}
	listed, err := c.selects(lr.first)
	if err != nil {
		return ""
	}
	ahead, behind := 0, 0
	for i, p := range missing {
		switch {
		case marks[i] >= lr.since && !listed[tr.order[p-1]]:
			ahead++
		case marks[i] < lr.since:
			behind++
		}
	}
	switch len(missing) {
	case ahead:
		k := tr.order[missing[0]-1]
		return fmt.Sprintf("run %d started from the mark (Since) %q, and record %q has the mark %q, at or after it, yet the API does not list it for that run's first request, %s: the marks are not the API's (a local time written with a literal Z, another zone, another field than the one the API filters by), so each sync hands the next a mark ahead of the records it read, and the records between go unread", lr.n, lr.since, k, marks[0], lr.first)
	case behind:
		return fmt.Sprintf("their marks are below the mark (Since) %q that run %d started from: a sync skipped them, then completed and handed the next its newest mark, so no later sync reads them. A sync by page number or offset skips records that shift across a page boundary while it runs or across a resume: a paginator that implements paginate.Describer (ByPosition, SendsSince) has Run turn on the drift detection that catches it, or set Options.Checks.TrackKeys and Options.Checks.Order", lr.since, lr.n)
	}
	return ""
}

// evenStep returns the distance between consecutive positions when there
// are at least two and it is always the same, or 0.
func evenStep(ps []int) int {
	if len(ps) < 2 {
		return 0
	}
	step := ps[1] - ps[0]
	for i := 2; i < len(ps); i++ {
		if ps[i]-ps[i-1] != step {
			return 0
		}
	}
	return step
}

// positions formats 1-based positions, runs as ranges: "positions 1-10",
// "positions 11, 22, 33".
func positions(ps []int) string {
	var parts []string
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ps[i], ps[j]))
		} else {
			parts = append(parts, strconv.Itoa(ps[i]))
		}
		i = j + 1
	}
	word := "positions "
	if len(ps) == 1 {
		word = "position "
	}
	return word + list(parts)
}

// records returns "1 record" or "n records".
func records(n int) string { return count(n, "record") }

// count returns "1 page" or "n pages" for n and "page".
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// quoted lists keys, quoted.
func quoted(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = strconv.Quote(k)
	}
	return list(q)
}

// list joins the first eight items with commas, and says how many were
// left out.
func list(items []string) string {
	const show = 8
	if len(items) <= show {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:show], ", ") + fmt.Sprintf(", … (%d in all)", len(items))
}

// explainRun adds to a failed run's error what it means for the
// paginator. tr and got, when known, are the truth and the records
// delivered so far.
func (s *kit[T]) explainRun(err error, tr *truth[T], got *table[T]) string {
	var le *paginate.LoopError
	switch {
	case errors.As(err, &le) && le.Previous:
		// The runner tells a repeat past the end of the data from one
		// before it by the totals the server reported; the oracle knows
		// the truth, reported or not.
		if tr == nil || got == nil || s.NoOracle != "" {
			return err.Error()
		}
		known := *le
		known.Items, known.TotalItems, known.Pages, known.TotalPages = 0, int64(len(tr.order)), 0, 0
		for _, k := range tr.order {
			if _, ok := got.rows[k]; ok {
				known.Items++
			}
		}
		return strings.Replace(err.Error(), le.Error(), known.Error(), 1)
	case errors.Is(err, paginate.ErrLoop):
		return fmt.Sprintf("%v\n\tthe paginator asked for one position twice, or the API served one page for two positions: Fetch must fetch the page that starts at the position it is given and say in Page.Next where the next one starts (a paginator that counts pages itself, starts over after an error, or counts from 0 on an API that serves page 0 as page 1, reads pages twice)", err)
	case errors.Is(err, paginate.ErrNoNext):
		return fmt.Sprintf("%v\n\tthe paginator reported more pages without saying where the next one starts (Page.More without Page.Next)", err)
	}
	return err.Error()
}

// ordinal returns "1st", "2nd", "3rd", "4th" ...
func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// permanentFault reports whether err ended a sync at its first attempt at a
// page, which with one transient fault injected means that the paginator
// marked the fault permanent.
func permanentFault(err error) bool {
	var fe *paginate.FetchError
	if !errors.As(err, &fe) {
		return paginate.IsPermanent(err)
	}
	return fe.Attempts == 1 && !errors.Is(err, paginate.ErrRetriesExhausted) && !errors.Is(err, paginate.ErrNoNext)
}
