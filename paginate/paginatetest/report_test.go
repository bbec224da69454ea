package paginatetest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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
			msg := tr.explain(got)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("explain lacks %q:\n%s", w, msg)
				}
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
