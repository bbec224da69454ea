package paginatetest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

// compare fails t, in a connector author's terms and with a go-cmp diff,
// when got is not the truth. what names the sync ("full sync").
func (s Suite[T]) compare(t *testing.T, what string, tr *truth[T], got *table[T]) {
	t.Helper()
	diff := gocmp.Diff(tr.table.sorted(), got.sorted())
	if diff == "" {
		return
	}
	t.Errorf("%s: %s\n\nthe synced table against %s, by key (-want +got):\n%s", what, tr.explain(got), tr.source, diff)
}

// explain says how got differs from the truth: how many records are
// missing and where in the listing, which ones are not the truth's, which
// ones arrived with other values.
func (tr *truth[T]) explain(got *table[T]) string {
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
			len(missing), positions(missing), len(tr.order), quoted(keys), tr.missingHint(missing))
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

// missingHint guesses, from where the missing records are, the bug that
// loses them.
func (tr *truth[T]) missingHint(missing []int) string {
	first, last, n := missing[0], missing[len(missing)-1], len(tr.order)
	run := last-first+1 == len(missing)
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
func records(n int) string {
	if n == 1 {
		return "1 record"
	}
	return strconv.Itoa(n) + " records"
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

// explainRun adds to a failed run's error what it means for the paginator.
func explainRun(err error) string {
	switch {
	case errors.Is(err, paginate.ErrLoop):
		return fmt.Sprintf("%v\n\tthe paginator asked for one position twice, or the API served one page for two positions: Fetch must fetch the page that starts at the position it is given and say in Page.Next where the next one starts (a paginator that counts pages itself, or counts from 0 on an API that serves page 0 as page 1, reads pages twice)", err)
	case errors.Is(err, paginate.ErrNoNext):
		return fmt.Sprintf("%v\n\tthe paginator reported more pages without saying where the next one starts (Page.More without Page.Next)", err)
	}
	return err.Error()
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
