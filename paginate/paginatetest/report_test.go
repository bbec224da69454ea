package paginatetest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
)

type item struct{ K, V string }

func items(keys ...int) []item {
	out := make([]item, len(keys))
	for i, k := range keys {
		out[i] = item{K: strconv.Itoa(k), V: "v"}
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func without(all []int, drop ...int) []int {
	var out []int
	for _, k := range all {
		if !contains(drop, k) {
			out = append(out, k)
		}
	}
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestExplain: the summary says how many records are missing, where, and
// guesses the bug from the pattern.
func TestExplain(t *testing.T) {
	key := func(it item) string { return it.K }
	all := seq(1, 30)
	tests := []struct {
		name string
		got  []item
		want []string
	}{
		{"first page", items(seq(11, 30)...), []string{
			"delivered 20 of the 30 records the API holds",
			"missing 10, at positions 1-10 of 30 in the API's order (keys \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", … (10 in all))",
			"the start of the listing never arrived; the full sync's first request was GET /x?page=2",
		}},
		{"last page", items(seq(1, 25)...), []string{
			"missing 5, at positions 26-30",
			"the end of the listing never arrived: the sync stopped early",
		}},
		{"one a page", items(without(all, 10, 20, 30)...), []string{
			"missing 3, at positions 10, 20, 30 of 30",
			"one record in every 10 never arrived",
		}},
		{"middle", items(without(all, 4, 5, 17)...), []string{
			"missing 3, at positions 4-5, 17 of 30",
			"records are missing from the middle of the listing",
		}},
		{"one", items(without(all, 7)...), []string{
			"missing 1, at position 7 of 30",
			"records are missing from the middle",
		}},
		{"extra and changed", append(append(items(seq(1, 29)...), item{K: "30", V: "other"}), items(31, 32)...), []string{
			"delivered 30 of the 30 records the API holds",
			"2 records that the API does not list (keys \"31\", \"32\")",
			"1 record arrived with other values than the API holds (keys \"30\")",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &truth[item]{table: newTable(key), first: "GET /x?page=2"}
			tr.table.upsert(items(all...))
			tr.order = tr.table.order
			got := newTable(key)
			got.upsert(tc.got)
			msg := tr.explain(got, clues[item]{})
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("explain lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

// TestExplainHints: the guess at what lost the records uses what the
// suite knows besides positions: the full sync's filter, a repeated page
// taken for the end, and the records' marks.
func TestExplainHints(t *testing.T) {
	key := func(it item) string { return it.K }
	mark := func(it item) string { return it.V }
	// 30 records, marks "m01" to "m30", with 11-13 tied at "m11" and the
	// last five, 26-30, a batch at "m26".
	var all []item
	for i := 1; i <= 30; i++ {
		m := i
		switch {
		case i >= 11 && i <= 13:
			m = 11
		case i >= 26:
			m = 26
		}
		all = append(all, item{K: strconv.Itoa(i), V: fmt.Sprintf("m%02d", m)})
	}
	pick := func(drop ...int) []item {
		var out []item
		for i, it := range all {
			if !contains(drop, i+1) {
				out = append(out, it)
			}
		}
		return out
	}
	req := &request{r: httptest.NewRequest(http.MethodGet, "/x?since=m25", nil)}
	lists := func(keys ...int) func(*request) (map[string]bool, error) {
		return func(*request) (map[string]bool, error) {
			set := make(map[string]bool)
			for _, k := range keys {
				set[strconv.Itoa(k)] = true
			}
			return set, nil
		}
	}
	tests := []struct {
		name   string
		got    []item
		filter string
		c      clues[item]
		want   string
	}{
		{"filter", pick(seq(1, 20)...), "the full sync filters", clues[item]{}, "the full sync's first request filters them out (see above)"},
		{"repeated page, start missing", pick(seq(1, 10)...), "", clues[item]{stop: paginate.StopRepeatedPage}, "the start of the listing never arrived"},
		{"repeated page taken for the end", pick(seq(21, 30)...), "", clues[item]{stop: paginate.StopRepeatedPage},
			"the sync took a page that repeated the one before it for the end of the data (Options.Checks.RepeatedPageEnds) with 10 records still to come"},
		{"short page", pick(seq(21, 30)...), "", clues[item]{stop: paginate.StopShortPage}, "the end of the listing never arrived"},
		{"tie after a delivered record", pick(12, 13), "", clues[item]{mark: mark},
			`each of them has the mark (Options.HighWater) of a record before it in the listing that did arrive ("m11")`},
		{"tie ahead of the delivered records", pick(11, 12), "", clues[item]{mark: mark}, "records are missing from the middle"},
		{"marks ahead of the API's", pick(seq(26, 30)...), "", clues[item]{mark: mark, last: &lastRun{n: 6, since: "m25", first: req}, selects: lists(25)},
			`run 6 started from the mark (Since) "m25", and record "26" has the mark "m26", at or after it, yet the API does not list it for that run's first request, GET /x?since=m25: the marks are not the API's`},
		{"marks behind the Since", pick(7, 8), "", clues[item]{mark: mark, last: &lastRun{n: 6, since: "m25", first: req}, selects: lists(25, 26, 27, 28, 29, 30)},
			`their marks are below the mark (Since) "m25" that run 6 started from: a sync skipped them, then completed`},
		{"listed, not delivered", pick(26, 27), "", clues[item]{mark: mark, last: &lastRun{n: 6, since: "m25", first: req}, selects: lists(25, 26, 27)},
			"records are missing from the middle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &truth[item]{table: newTable(key), first: "GET /x", filter: tc.filter}
			tr.table.upsert(all)
			tr.order = tr.table.order
			got := newTable(key)
			got.upsert(tc.got)
			if msg := tr.explain(got, tc.c); !strings.Contains(msg, tc.want) {
				t.Errorf("explain lacks %q:\n%s", tc.want, msg)
			}
		})
	}
}

func TestPositions(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{[]int{3}, "position 3"},
		{[]int{1, 2, 3, 7, 9, 10}, "positions 1-3, 7, 9-10"},
		{seq(1, 20), "positions 1-20"},
		{[]int{2, 4, 6, 8, 10, 12, 14, 16, 18, 20}, "positions 2, 4, 6, 8, 10, 12, 14, 16, … (10 in all)"},
	} {
		if diff := cmp.Diff(tc.want, positions(tc.in)); diff != "" {
			t.Errorf("positions(%v) (-want +got):\n%s", tc.in, diff)
		}
	}
}
