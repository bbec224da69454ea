package paginatetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/paginate/paginatetest"
)

// Hand-written paginators over the mock API, as connector authors write
// them, each with a knob for a bug they write most.

// getJSON fetches url into v: network errors and 5xx are worth a retry,
// other failures are permanent. With permanentDecode a body that does not
// decode is permanent too, which takes a body cut mid-way for a malformed
// one.
func getJSON(ctx context.Context, c *http.Client, url string, v any, permanentDecode bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return paginate.Permanent(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, b)
		if resp.StatusCode < 500 {
			err = paginate.Permanent(err)
		}
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		err = fmt.Errorf("GET %s: decoding: %w", url, err)
		if permanentDecode {
			err = paginate.Permanent(err)
		}
		return err
	}
	return nil
}

// handOffset pages the offset endpoint, limit records a page.
type handOffset struct {
	base  string
	c     *http.Client
	limit int
	// skip is added to the next offset: 1 is the off-by-one bug.
	skip int
	// back, on the first fetch after a resume, reads again that many
	// records of the page before, in case they changed: the bug of a
	// paginator that delivers records twice to be safe.
	back    int
	fetched bool
}

func (p *handOffset) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[mockapi.User], error) {
	var body struct {
		Data  []mockapi.User `json:"data"`
		Total int64          `json:"total"`
	}
	from, limit := pos.Offset, p.limit
	if !p.fetched && !pos.IsStart() {
		from, limit = from-int64(p.back), limit+p.back
	}
	p.fetched = true
	url := fmt.Sprintf("%s%s?limit=%d&offset=%d", p.base, mockapi.PathOffset, limit, from)
	if err := getJSON(ctx, p.c, url, &body, false); err != nil {
		return paginate.Page[mockapi.User]{}, err
	}
	next := from + int64(len(body.Data)+p.skip)
	return paginate.Page[mockapi.User]{
		Items: body.Data, More: len(body.Data) > 0 && next < body.Total,
		Next: paginate.Position{Offset: next}, TotalItems: body.Total, Stop: paginate.StopTotalReached,
	}, nil
}

// handPages pages the page-number endpoint, 10 records a page.
type handPages struct {
	base string
	c    *http.Client
	// first is the page asked for at the start: 1, or the bug.
	first int64
	// pages returns how many pages hold total records of size: rounding
	// down is the bug.
	pages func(total, size int64) int64
	// permanentDecode marks a body that does not decode as permanent.
	permanentDecode bool
	// counter, when set, is the page to fetch next, kept by the paginator
	// instead of read from the position: the bug of a paginator that
	// keeps its place itself.
	counter *int64
	// total, when set, keeps the first total_items the paginator ever
	// read: the bug of a connector that caches the API's count.
	total *int64
}

func (p *handPages) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[mockapi.User], error) {
	const size = 10
	page := pos.Page
	if pos.IsStart() {
		page = p.first
	}
	if p.counter != nil {
		page = *p.counter
		*p.counter++
	}
	var body struct {
		Data       []mockapi.User `json:"data"`
		TotalItems int64          `json:"total_items"`
	}
	url := fmt.Sprintf("%s%s?per_page=%d&page=%d", p.base, mockapi.PathPageNumber, size, page)
	if err := getJSON(ctx, p.c, url, &body, p.permanentDecode); err != nil {
		return paginate.Page[mockapi.User]{}, err
	}
	if p.total != nil {
		if *p.total == 0 {
			*p.total = body.TotalItems
		}
		body.TotalItems = *p.total
	}
	return paginate.Page[mockapi.User]{
		Items: body.Data, More: page < p.pages(body.TotalItems, size),
		Next: paginate.Position{Page: page + 1}, TotalItems: body.TotalItems, Stop: paginate.StopTotalReached,
	}, nil
}

func ceilPages(total, size int64) int64  { return (total + size - 1) / size }
func floorPages(total, size int64) int64 { return total / size }

func userKey(u mockapi.User) string { return u.ID }

// zeroIsOne is the mock API behind a front that serves page 0 as page 1,
// as many APIs do. It embeds the Server, so it is still an Oracle.
type zeroIsOne struct{ *mockapi.Server }

func (z zeroIsOne) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if q := r.URL.Query(); q.Get("page") == "0" {
		q.Set("page", "1")
		r = r.Clone(r.Context())
		r.URL.RawQuery = q.Encode()
	}
	z.Server.ServeHTTP(w, r)
}

// suites are the conformance suites of the hand-written paginators, bugs
// and all, by name.
func suites() map[string]paginatetest.Suite[mockapi.User] {
	pages := func(p handPages) func(string, *http.Client) paginate.Paginator[mockapi.User] {
		return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
			p.base, p.c = base, c
			return &p
		}
	}
	offsets := func(skip, back int) func(string, *http.Client) paginate.Paginator[mockapi.User] {
		return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
			return &handOffset{base: base, c: c, limit: 10, skip: skip, back: back}
		}
	}
	srv := func(n int) *mockapi.Server { return mockapi.New(mockapi.Config{Records: n, Seed: 7}) }
	correct := handPages{first: 1, pages: ceilPages}
	noOracle := srv(35)
	stateful := func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &handPages{base: base, c: c, pages: ceilPages, counter: new(int64(1))}
	}
	var cached int64
	cachedTotal := func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &handPages{base: base, c: c, first: 1, pages: ceilPages, total: &cached}
	}
	rerunOnly := []string{"resume", "fault", "drop", "cancel", "loop"}
	return map[string]paginatetest.Suite[mockapi.User]{
		"offset":                {Handler: srv(100), New: offsets(0, 0), Key: userKey},
		"pages":                 {Handler: srv(95), New: pages(correct), Key: userKey},
		"offset-off-by-one":     {Handler: srv(100), New: offsets(1, 0), Key: userKey},
		"pages-from-2":          {Handler: srv(95), New: pages(handPages{first: 2, pages: ceilPages}), Key: userKey},
		"pages-rounded-down":    {Handler: srv(95), New: pages(handPages{first: 1, pages: floorPages}), Key: userKey},
		"pages-from-0":          {Handler: zeroIsOne{srv(95)}, New: pages(handPages{first: 0, pages: ceilPages}), Key: userKey},
		"drop-permanent":        {Handler: srv(25), New: pages(handPages{first: 1, pages: ceilPages, permanentDecode: true}), Key: userKey, Skip: []string{"resume", "fault", "cancel", "loop"}},
		"pages-stateful":        {Handler: srv(45), New: stateful, Key: userKey, Skip: []string{"fault", "drop", "cancel", "loop"}},
		"offset-back-on-resume": {Handler: srv(50), New: offsets(0, 3), Key: userKey, Skip: []string{"fault", "drop", "cancel", "loop"}},
		"pages-cached-total":    {Handler: srv(45), New: cachedTotal, Key: userKey, Skip: rerunOnly},
		"no-oracle":             {Handler: http.HandlerFunc(noOracle.ServeHTTP), New: pages(correct), Key: userKey},
		"want-and-no-oracle":    {Handler: noOracle, New: pages(correct), Key: userKey, Want: noOracle.Records(), NoOracle: "contradiction"},
		"no-oracle-stated":      {Handler: http.HandlerFunc(noOracle.ServeHTTP), New: pages(correct), Key: userKey, NoOracle: "the handler is wrapped, for this test"},
	}
}

// TestHandWrittenPaginators: correct hand-written paginators pass the
// suite against the mock API's oracle.
func TestHandWrittenPaginators(t *testing.T) {
	all := suites()
	for _, name := range []string{"offset", "pages"} {
		t.Run(name, func(t *testing.T) { all[name].Run(t) })
	}
}

// TestBuggyPaginator runs one suite of suites, named by $PAGINATETEST_SUITE,
// for TestBuggyPaginatorsFail, which runs it in a child process so that it
// can fail.
func TestBuggyPaginator(t *testing.T) {
	name := os.Getenv("PAGINATETEST_SUITE")
	if name == "" {
		t.Skip("run by TestBuggyPaginatorsFail")
	}
	s, ok := suites()[name]
	if !ok {
		t.Fatalf("no suite %q", name)
	}
	s.Run(t)
}

// TestBuggyPaginatorsFail: each buggy paginator fails the suite, with a
// message that says what is wrong in a connector author's terms.
func TestBuggyPaginatorsFail(t *testing.T) {
	tests := []struct {
		suite string
		pass  bool
		want  []string
	}{
		{suite: "offset-off-by-one", want: []string{
			"full sync (10 pages, stop \"total reached\"): delivered 91 of the 100 records the API holds",
			"missing 9, at positions 11, 22, 33, 44, 55, 66, 77, 88, … (9 in all) of 100 in the API's order",
			"one record in every 11 never arrived: the paginator steps over a record between pages, as an offset advanced by the page's length plus one",
		}},
		{suite: "pages-from-2", want: []string{
			"delivered 85 of the 95 records the API holds",
			"missing 10, at positions 1-10 of 95",
			"the start of the listing never arrived; the full sync's first request was GET /pagination/page_number?per_page=10&page=2: does the paginator ask for the first page",
		}},
		{suite: "pages-rounded-down", want: []string{
			"full sync (9 pages, stop \"total reached\"): delivered 90 of the 95 records the API holds",
			"missing 5, at positions 91-95 of 95",
			"the end of the listing never arrived: the sync stopped early",
		}},
		{suite: "pages-from-0", want: []string{
			"pagination loop: page 1 returned the same page as start",
			"the paginator asked for one position twice, or the API served one page for two positions",
		}},
		{suite: "drop-permanent", want: []string{
			"request 1 was cut mid-body (the server closed the connection halfway through the body, so the client read unexpected EOF), a transient fault: the paginator marked a truncated body as permanent; it should be retried",
			"unexpected EOF",
		}},
		{suite: "pages-stateful", want: []string{
			"--- FAIL: TestBuggyPaginator/resume/after-page-1",
			"resumed run: paginate: stream \"default\": pagination loop",
			"--- FAIL: TestBuggyPaginator/rerun/crash-after-page-2",
			"run 2, after a stop by crash after page 2 in run 1: paginate: stream \"default\": pagination loop",
			"a paginator that counts pages itself",
		}},
		{suite: "offset-back-on-resume", want: []string{
			"--- PASS: TestBuggyPaginator/resume",
			"--- FAIL: TestBuggyPaginator/rerun/crash-after-page-2",
			"a sync stopped by crash after page 2, then 5 more runs, with the source changed before runs 2 and 4: ",
			"records delivered again, unchanged, by a run that resumed the sync that had delivered them (",
			"in run 2",
			"a run that resumes must go on after the last page committed, and never commit a page again",
		}},
		{suite: "pages-cached-total", want: []string{
			"--- FAIL: TestBuggyPaginator/rerun/max-pages-after-page-2",
			"a sync stopped by max-pages after page 2, then 5 more runs, with the source changed before runs 2 and 4: delivered 50 of the ",
			"updates that no later sync delivered",
			"the end of the listing never arrived: the sync stopped early",
		}},
		{suite: "no-oracle", want: []string{
			"the Suite has no oracle",
			"Want: every record a full sync must deliver",
			"a Handler that implements paginatetest.Oracle",
			`NoOracle: "the reason"`,
		}},
		{suite: "want-and-no-oracle", want: []string{
			"the Suite sets both Want and NoOracle",
		}},
		{suite: "no-oracle-stated", pass: true, want: []string{
			"--- SKIP: TestBuggyPaginator/oracle",
			"no oracle (the handler is wrapped, for this test): the first full sync's 35 records stand for the truth",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.suite, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBuggyPaginator$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "PAGINATETEST_SUITE="+tc.suite)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case tc.pass && err != nil:
				t.Fatalf("the suite failed (%v), want it to pass:\n%s", err, out)
			case !tc.pass && !errors.As(err, &exit):
				t.Fatalf("the suite passed (err %v), want it to fail:\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
