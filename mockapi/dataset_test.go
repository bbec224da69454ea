package mockapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDeterministic(t *testing.T) {
	cfg := Config{Records: 500, Seed: 42, TieGroups: []TieGroup{{At: 10, Size: 60}}}
	a, b := New(cfg), New(cfg)
	if diff := cmp.Diff(a.Records(), b.Records()); diff != "" {
		t.Fatalf("same Config, different records (-a +b):\n%s", diff)
	}
	for _, target := range []string{
		"/pagination/page_number?per_page=50&page=3&order_by=createdAt",
		"/pagination/keyset",
		"/pagination/next_token?limit=50",
		"/pagination/starting_after?limit=50",
	} {
		if x, y := mustGet(t, a, target).Body.String(), mustGet(t, b, target).Body.String(); x != y {
			t.Errorf("%s: same Config, different bodies", target)
		}
	}
	c := New(Config{Records: 500, Seed: 43})
	if a.Records()[0].ID == c.Records()[0].ID {
		t.Errorf("seeds 42 and 43 made the same first record")
	}
}

// TestGolden pins the dataset of the zero Config with Seed 1, so that a
// change to the generator, which would break reproducibility across
// versions, is deliberate.
func TestGolden(t *testing.T) {
	s := New(Config{Seed: 1})
	h := sha256.New()
	for page := 1; page <= 4; page++ {
		h.Write(mustGet(t, s, "/pagination/page_number?per_page=50&page="+string(rune('0'+page))).Body.Bytes())
	}
	all := s.Records()
	got := []string{all[0].ID, all[199].ID, hex.EncodeToString(h.Sum(nil))[:16]}
	want := []string{"f5d2cb23-03a8-4696-adf2-494e1f74f076", "11a9f5db-91f2-46a4-88cd-2efe54ba0637", "bb2e73189e0fc830"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("golden (-want +got):\n%s", diff)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRecordShape(t *testing.T) {
	s := New(Config{Records: 2000, Seed: 5})
	all := s.Records()
	if len(all) != 2000 || s.Len() != 2000 {
		t.Fatalf("%d records, Len %d, want 2000", len(all), s.Len())
	}
	seen := map[string]bool{}
	size := 0
	lo, hi := time.Unix(spanStart, 0), time.Unix(spanEnd, 0)
	for i, u := range all {
		switch {
		case !uuidRE.MatchString(u.ID):
			t.Errorf("record %d: id %q is not a version 4 UUID", i, u.ID)
		case seen[u.ID]:
			t.Errorf("record %d: id %s repeats", i, u.ID)
		case strings.Count(u.Address, "\n") != 1:
			t.Errorf("record %d: address %q is not two lines", i, u.Address)
		case !strings.Contains(u.Email, "@") || u.Name == "" || u.Company == "" || u.Job == "":
			t.Errorf("record %d: %+v has an empty or odd field", i, u)
		case u.CreatedAt.After(u.UpdatedAt):
			t.Errorf("record %d: created %v after updated %v", i, u.CreatedAt, u.UpdatedAt)
		case u.UpdatedAt.Before(lo) || !u.UpdatedAt.Before(hi):
			t.Errorf("record %d: updatedAt %v outside %v..%v", i, u.UpdatedAt, lo, hi)
		case u.UpdatedAt.Location() != time.UTC || u.UpdatedAt.Nanosecond() != 0:
			t.Errorf("record %d: updatedAt %v is not whole seconds in UTC", i, u.UpdatedAt)
		case i > 0 && (all[i-1].UpdatedAt.After(u.UpdatedAt) || all[i-1].UpdatedAt.Equal(u.UpdatedAt) && all[i-1].ID >= u.ID):
			t.Errorf("records %d and %d are not in (updatedAt, id) order", i-1, i)
		}
		seen[u.ID] = true
		size += len(mustMarshal(t, u))
	}
	if mean := size / len(all); mean < 250 || mean > 350 {
		t.Errorf("records average %d bytes of JSON, want about 300", mean)
	}
}

// tieRuns returns the lengths of the runs of equal updatedAt.
func tieRuns(all []User) []int {
	var runs []int
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].UpdatedAt.Equal(all[i].UpdatedAt) {
			j++
		}
		runs = append(runs, j-i)
		i = j
	}
	return runs
}

func TestTies(t *testing.T) {
	countTied := func(runs []int) (n int) {
		for _, r := range runs {
			if r > 1 {
				n += r
			}
		}
		return n
	}
	if n := countTied(tieRuns(New(Config{Seed: 1}).Records())); n < 5 || n > 60 {
		t.Errorf("the default dataset has %d of 200 records in ties, want some", n)
	}
	if n := countTied(tieRuns(New(Config{Seed: 1, TieRate: -1}).Records())); n != 0 {
		t.Errorf("TieRate -1 left %d records in ties", n)
	}
	all := New(Config{Records: 300, Seed: 2, TieRate: -1, TieGroups: []TieGroup{{At: 200, Size: 3}, {At: 45, Size: 110}}}).Records()
	var want []int
	for range 45 {
		want = append(want, 1)
	}
	want = append(want, 110)
	for range 200 - 155 {
		want = append(want, 1)
	}
	want = append(want, 3)
	for range 300 - 203 {
		want = append(want, 1)
	}
	if diff := cmp.Diff(want, tieRuns(all)); diff != "" {
		t.Errorf("tie runs (-want +got):\n%s", diff)
	}
}

// TestWordLists checks that every word is plain ASCII that JSON needs no
// escape for, which appendRecord relies on.
func TestWordLists(t *testing.T) {
	lists := [][]string{
		firstNames[:], lastNames[:], domains[:], streetNames[:], streetSuffixes[:],
		secondaries[:], cities[:], states[:], companySuffixes[:], jobs[:],
	}
	for _, l := range lists {
		for _, w := range l {
			if w == "" || strings.ContainsAny(w, "\"\\<>&") || strings.IndexFunc(w, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
				t.Errorf("word %q needs escaping in JSON", w)
			}
		}
	}
}

func TestUpdate(t *testing.T) {
	s := New(Config{Seed: 9})
	before := s.Records()
	oldMax := before[len(before)-1].UpdatedAt
	updated := s.Update(10)
	if len(updated) != 10 {
		t.Fatalf("Update(10) returned %d records", len(updated))
	}
	after := s.Records()
	if len(after) != len(before) || s.Len() != len(before) {
		t.Fatalf("Update changed the count: %d -> %d", len(before), len(after))
	}
	if diff := cmp.Diff(updated, after[len(after)-10:]); diff != "" {
		t.Errorf("updated records are not last (-returned +last):\n%s", diff)
	}
	changed := 0
	old := map[string]User{}
	for _, u := range before {
		old[u.ID] = u
	}
	for _, u := range updated {
		o := old[u.ID]
		if !u.UpdatedAt.Equal(oldMax.Add(time.Second)) {
			t.Errorf("updated %s at %v, want %v", u.ID, u.UpdatedAt, oldMax.Add(time.Second))
		}
		if u.Name != o.Name || u.Email != o.Email || !u.CreatedAt.Equal(o.CreatedAt) {
			t.Errorf("update changed fields it should keep: %+v -> %+v", o, u)
		}
		if u.Company != o.Company || u.Job != o.Job {
			changed++
		}
	}
	if changed == 0 {
		t.Errorf("no update changed a company or a job")
	}
	rest := slices.DeleteFunc(slices.Clone(before), func(u User) bool {
		return slices.ContainsFunc(updated, func(v User) bool { return v.ID == u.ID })
	})
	if diff := cmp.Diff(rest, after[:len(after)-10]); diff != "" {
		t.Errorf("records not updated changed (-want +got):\n%s", diff)
	}

	// An incremental sync from the old high-water mark, inclusive, gets the
	// records at the mark and the updated ones.
	mark := oldMax.Format("2006-01-02T15:04:05Z")
	got := walkPageNumber(t, s, "order_by=updatedAt&updated_since="+mark, 50)
	want := since(after, oldMax)
	if diff := cmp.Diff(ids(want), ids(got)); diff != "" {
		t.Errorf("incremental walk (-want +got):\n%s", diff)
	}
	if len(got) < 11 {
		t.Errorf("incremental walk got %d records, want the 10 updates and the boundary", len(got))
	}

	second := s.Update(3)
	if !second[0].UpdatedAt.Equal(oldMax.Add(2 * time.Second)) {
		t.Errorf("second update at %v, want one second after the first", second[0].UpdatedAt)
	}
	if st := s.Stats(); st.Updated != 13 || st.Inserted != 0 {
		t.Errorf("stats %+v, want 13 updated", st)
	}
	if all := s.Update(1000); len(all) != 200 {
		t.Errorf("Update(1000) of 200 records updated %d", len(all))
	}
}

func TestInsert(t *testing.T) {
	s := New(Config{Seed: 9})
	before := s.Records()
	created := byCreated(before)
	oldMax := before[len(before)-1].UpdatedAt
	ins := s.Insert(5)
	if len(ins) != 5 || s.Len() != 205 {
		t.Fatalf("Insert(5): %d returned, Len %d", len(ins), s.Len())
	}
	for _, u := range ins {
		if !u.CreatedAt.Equal(oldMax.Add(time.Second)) || !u.UpdatedAt.Equal(u.CreatedAt) {
			t.Errorf("inserted %+v, want created and updated at %v", u, oldMax.Add(time.Second))
		}
		if got, ok := s.Get(u.ID); !ok || !cmp.Equal(got, u) {
			t.Errorf("Get(%s) = %+v, %v", u.ID, got, ok)
		}
	}
	after := s.Records()
	if diff := cmp.Diff(slices.Concat(before, ins), after); diff != "" {
		t.Errorf("records after Insert (-want +got):\n%s", diff)
	}
	// Stripe-style paging sees the new records at the end of the creation
	// order.
	var got []User
	target := "/pagination/starting_after?limit=50"
	for {
		r := decode[startingAfterResp](t, mustGet(t, s, target).Body.Bytes())
		got = append(got, r.Data...)
		if !r.HasMore {
			break
		}
		target = "/pagination/starting_after?limit=50&starting_after=" + r.Data[len(r.Data)-1].ID
	}
	if diff := cmp.Diff(ids(slices.Concat(created, ins)), ids(got)); diff != "" {
		t.Errorf("starting_after walk (-want +got):\n%s", diff)
	}
	if st := s.Stats(); st.Inserted != 5 || st.Updated != 0 {
		t.Errorf("stats %+v, want 5 inserted", st)
	}
}

func TestClock(t *testing.T) {
	future := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	s := New(Config{Seed: 1, Clock: func() time.Time { return future }})
	if u := s.Update(1)[0]; !u.UpdatedAt.Equal(future) {
		t.Errorf("with a clock at %v, updated at %v", future, u.UpdatedAt)
	}
	past := New(Config{Seed: 1, Clock: func() time.Time { return time.Unix(0, 0) }})
	max := past.Records()[199].UpdatedAt
	if u := past.Update(1)[0]; !u.UpdatedAt.Equal(max.Add(time.Second)) {
		t.Errorf("with a clock in the past, updated at %v, want %v", u.UpdatedAt, max.Add(time.Second))
	}
}

func TestGet(t *testing.T) {
	s := New(Config{Seed: 1})
	all := s.Records()
	for _, u := range []User{all[0], all[77], all[199]} {
		got, ok := s.Get(strings.ToUpper(u.ID))
		if !ok || !cmp.Equal(got, u) {
			t.Errorf("Get(%s) = %+v, %v", u.ID, got, ok)
		}
	}
	for _, id := range []string{"", "nope", "00000000-0000-4000-8000-000000000000", all[0].ID + "0"} {
		if _, ok := s.Get(id); ok {
			t.Errorf("Get(%q) found a record", id)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{Config{}, ""},
		{Config{Records: MaxRecords, TieGroups: []TieGroup{{0, 10}, {10, 5}}}, ""},
		{Config{Records: -1}, "Records -1"},
		{Config{Records: MaxRecords + 1}, "outside 0..10000000"},
		{Config{TieRate: 1}, "TieRate 1 must be below 1"},
		{Config{TieGroups: []TieGroup{{190, 20}}}, "does not fit in 200 records"},
		{Config{TieGroups: []TieGroup{{10, 0}}}, "does not fit"},
		{Config{TieGroups: []TieGroup{{50, 10}, {10, 45}}}, "TieGroup{At: 50, Size: 10} overlaps"},
		{Config{MaxPerPage: -1}, "MaxPerPage -1"},
		{Config{PageSizeCap: -1}, "PageSizeCap -1"},
		{Config{Latency: -time.Second}, "must not be negative"},
		{Config{ErrorRate: 1.5}, "ErrorRate 1.5 is outside 0..1"},
		{Config{DropRate: -0.1}, "DropRate -0.1"},
		{Config{ErrorCodes: []int{200}}, "ErrorCodes holds 200"},
		{Config{Mutate: Mutation{Every: -1}}, "negative field"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want one with %q", tc.cfg, err, tc.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("New with an invalid Config did not panic")
		}
	}()
	New(Config{Records: -5})
}

// TestMillion builds a million records and serves pages from the middle
// and the end, reporting the memory the dataset takes.
func TestMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a million records; run without -short")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	s := New(Config{Records: 1_000_000, Seed: 1, TieGroups: []TieGroup{{At: 500_000, Size: 200}}})
	built := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("1,000,000 records: built in %v, heap %.1f MB", built, float64(heap)/(1<<20))
	if heap > 200<<20 {
		t.Errorf("a million records take %d MB, want well under 1 GB (about 50 MB)", heap>>20)
	}

	r := decode[pageNumberResp](t, mustGet(t, s, "/pagination/page_number?per_page=50&page=20000").Body.Bytes())
	if r.TotalItems != 1_000_000 || r.TotalPages != 20_000 || len(r.Data) != 50 {
		t.Fatalf("last page: %d items, %d pages, %d records", r.TotalItems, r.TotalPages, len(r.Data))
	}
	mid := decode[offsetResp](t, mustGet(t, s, "/pagination/offset?limit=50&offset=500000").Body.Bytes())
	at := mid.Data[0].UpdatedAt
	sinceMid := decode[offsetResp](t, mustGet(t, s, "/pagination/offset?limit=50&updated_since="+at.Format("2006-01-02T15:04:05Z")).Body.Bytes())
	if sinceMid.Total != 500_000 || !bytes.Equal(mustMarshal(t, sinceMid.Data[0]), mustMarshal(t, mid.Data[0])) {
		t.Errorf("since the tie at offset 500000: total %d, first %s, want 500000 from %s", sinceMid.Total, sinceMid.Data[0].ID, mid.Data[0].ID)
	}
	start = time.Now()
	byC := decode[pageNumberResp](t, mustGet(t, s, "/pagination/page_number?per_page=50&order_by=createdAt&order_type=desc").Body.Bytes())
	t.Logf("first createdAt page (sorts a million): %v", time.Since(start))
	if len(byC.Data) != 50 || byC.Data[0].CreatedAt.Before(byC.Data[49].CreatedAt) {
		t.Errorf("createdAt desc page is not in order")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("heap with the createdAt index: %.1f MB", float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20))
	runtime.KeepAlive(s)
}

// TestPreEncodeSame checks that pre-encoded records are the bytes that
// encoding them as served gives, before and after mutations.
func TestPreEncodeSame(t *testing.T) {
	cfg := Config{Records: 300, Seed: 8}
	pre := New(cfg)
	cfg.PreEncode = -1
	live := New(cfg)
	if pre.data.encAt == nil || live.data.encAt != nil {
		t.Fatalf("PreEncode default and -1 did not pick pre-encoding and live encoding")
	}
	compare := func(when string) {
		t.Helper()
		for _, target := range []string{
			"/pagination/link_header?per_page=50&page=6&order_by=createdAt",
			"/pagination/page_number?per_page=50&page=1&order_type=desc",
			"/pagination/offset?limit=50&offset=100",
		} {
			if a, b := mustGet(t, pre, target).Body.String(), mustGet(t, live, target).Body.String(); a != b {
				t.Errorf("%s, %s: pre-encoded and live bodies differ:\n%s\n%s", when, target, a, b)
			}
		}
	}
	compare("before mutations")
	pre.Update(20)
	live.Update(20)
	pre.Insert(7)
	live.Insert(7)
	compare("after mutations")
}
