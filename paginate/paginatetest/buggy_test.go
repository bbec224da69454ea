package paginatetest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/paginate/paginatetest"
)

// The kit's regression set: paginators that connector authors really
// write, each either correct or with one bug they write most, and suites
// configured as authors configure them. The suite must fail every buggy
// one and pass every correct one, and what it says is kept in
// testdata/suites, one block per case.

// statusError is a response that was not 200.
type statusError struct {
	url    string
	status int
	body   []byte
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: status %d: %s", e.url, e.status, e.body)
}

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
		var err error = &statusError{url, resp.StatusCode, b}
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

// handPages pages the page-number endpoint, 10 records a page, into any
// record type.
type handPages[T any] struct {
	base string
	c    *http.Client
	// first is the page asked for at the start: 1, or the bug.
	first int64
	// pages returns how many pages hold total records of size: rounding
	// down is the bug. Nil reads no total: a page with records says that
	// more may follow, for a server that answers past the end with its
	// last page (Options.Checks.RepeatedPageEnds).
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
	// lookBack, when set, is the updated_since of a full sync: the bug of
	// a connector that reads "recent" records by default.
	lookBack string
	// offsetTypo reads the page number from Position.Offset, which the
	// runner never sets for it: the bug of a paginator that ignores the
	// position it is given.
	offsetTypo bool
	// cache, when set, keeps response bodies by path: the bug of pages
	// that share state.
	cache map[string][]byte
	// since sends Position.Since as updated_since: an incremental sync.
	since bool
}

func (p *handPages[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	const size = 10
	page := pos.Page
	if p.offsetTypo {
		page = pos.Offset
	}
	if page == 0 {
		page = p.first
	}
	if p.counter != nil {
		page = *p.counter
		*p.counter++
	}
	var body struct {
		Data       []T   `json:"data"`
		TotalItems int64 `json:"total_items"`
	}
	u := fmt.Sprintf("%s%s?per_page=%d&page=%d", p.base, mockapi.PathPageNumber, size, page)
	if p.lookBack != "" && pos.Since == "" {
		u += "&updated_since=" + p.lookBack
	}
	if p.since && pos.Since != "" {
		u += "&updated_since=" + pos.Since
	}
	if b, ok := p.cache[mockapi.PathPageNumber]; ok {
		if err := json.Unmarshal(b, &body); err != nil {
			return paginate.Page[T]{}, err
		}
	} else {
		var raw json.RawMessage
		if err := getJSON(ctx, p.c, u, &raw, p.permanentDecode); err != nil {
			return paginate.Page[T]{}, err
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return paginate.Page[T]{}, err
		}
		if p.cache != nil {
			p.cache[mockapi.PathPageNumber] = raw
		}
	}
	if p.total != nil {
		if *p.total == 0 {
			*p.total = body.TotalItems
		}
		body.TotalItems = *p.total
	}
	if p.pages == nil {
		return paginate.Page[T]{Items: body.Data, More: len(body.Data) > 0, Next: paginate.Position{Page: page + 1}}, nil
	}
	return paginate.Page[T]{
		Items: body.Data, More: page < p.pages(body.TotalItems, size),
		Next: paginate.Position{Page: page + 1}, TotalItems: body.TotalItems, Stop: paginate.StopTotalReached,
	}, nil
}

// described is a paginator that says how it reads (paginate.Describer),
// so that the runner protects it as it does the built-in strategies.
type described[T any] struct {
	paginate.Paginator[T]
	d paginate.Description
}

func (p described[T]) Describe() paginate.Description { return p.d }

func ceilPages(total, size int64) int64  { return (total + size - 1) / size }
func floorPages(total, size int64) int64 { return total / size }

// handTokens pages the next-token endpoint, a keyset over (updatedAt, id)
// that no change of the records shifts, 10 records a page, from the
// position's Since.
type handTokens struct {
	base string
	c    *http.Client
	// resetOn5xx drops the token after a 5xx and starts over: the bug of
	// a paginator that "recovers" from a failed request.
	resetOn5xx bool
	reset      bool
}

func (p *handTokens) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[mockapi.User], error) {
	q := url.Values{"limit": {"10"}}
	if pos.Since != "" {
		q.Set("updated_since", pos.Since)
	}
	if pos.Token != "" && !p.reset {
		q.Set("next_token", pos.Token)
	}
	p.reset = false
	var body struct {
		Data      []mockapi.User `json:"data"`
		NextToken string         `json:"next_token"`
	}
	err := getJSON(ctx, p.c, p.base+mockapi.PathNextToken+"?"+q.Encode(), &body, false)
	if se := (*statusError)(nil); errors.As(err, &se) && se.status >= 500 {
		p.reset = p.resetOn5xx
	}
	if err != nil {
		return paginate.Page[mockapi.User]{}, err
	}
	return paginate.Page[mockapi.User]{Items: body.Data, More: body.NextToken != "", Next: paginate.Position{Token: body.NextToken}}, nil
}

// handCursor pages the page-number endpoint by its inclusive updated_since
// filter alone: each request asks for the first page of the records
// updated at or after the last record's updatedAt, and drops the records
// at that value, all of them, as a cursor that is exclusive (>) does: the
// bug that loses records that share an updatedAt across pages.
type handCursor struct {
	base string
	c    *http.Client
}

func (p *handCursor) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[mockapi.User], error) {
	after := pos.Token
	q := url.Values{"per_page": {"10"}, "page": {"1"}}
	if from := max(after, pos.Since); from != "" {
		q.Set("updated_since", from)
	}
	var body struct {
		Data []mockapi.User `json:"data"`
	}
	if err := getJSON(ctx, p.c, p.base+mockapi.PathPageNumber+"?"+q.Encode(), &body, false); err != nil {
		return paginate.Page[mockapi.User]{}, err
	}
	var items []mockapi.User
	for _, u := range body.Data {
		if after == "" || stamp(u) > after {
			items = append(items, u)
		}
	}
	if len(body.Data) < 10 {
		return paginate.Page[mockapi.User]{Items: items}, nil
	}
	last := stamp(body.Data[len(body.Data)-1])
	return paginate.Page[mockapi.User]{Items: items, More: true, Next: paginate.Position{Token: last}}, nil
}

// stamp is the mock API's updatedAt as its filter takes it.
func stamp(u mockapi.User) string { return u.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z") }

// stampAhead is stamp as a connector writes it on a machine an hour east of
// UTC: local time with a literal Z.
func stampAhead(u mockapi.User) string {
	return u.UpdatedAt.In(time.FixedZone("CET", 3600)).Format("2006-01-02T15:04:05Z")
}

func userKey(u mockapi.User) string { return u.ID }

// idOnly is a record type that keeps the key alone.
type idOnly struct {
	ID string `json:"id"`
}

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

// kitCase is one case of the regression set.
type kitCase struct {
	name string
	// correct is true for a paginator and a Suite without fault: the suite
	// must pass it. A buggy one must fail.
	correct bool
	// run runs the suite in-process and returns its verdict and report.
	run func(name string) (failed bool, transcript string)
}

func userCase[T any](name string, correct bool, s paginatetest.Suite[T]) kitCase {
	return kitCase{name: name, correct: correct, run: func(name string) (bool, string) {
		return paginatetest.RunRecorded(name, s)
	}}
}

func mock(n int) *mockapi.Server { return mockapi.New(mockapi.Config{Records: n, Seed: 7}) }

func pagesOf[T any](p handPages[T]) func(string, *http.Client) paginate.Paginator[T] {
	return func(base string, c *http.Client) paginate.Paginator[T] {
		p := p
		p.base, p.c = base, c
		if p.cache != nil {
			p.cache = make(map[string][]byte)
		}
		return &p
	}
}

func offsets(skip, back int) func(string, *http.Client) paginate.Paginator[mockapi.User] {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &handOffset{base: base, c: c, limit: 10, skip: skip, back: back}
	}
}

func tokens(resetOn5xx bool) func(string, *http.Client) paginate.Paginator[mockapi.User] {
	return func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &handTokens{base: base, c: c, resetOn5xx: resetOn5xx}
	}
}

// kitCases is the regression set, in the order of testdata/suites.
func kitCases() []kitCase {
	good := handPages[mockapi.User]{first: 1, pages: ceilPages}
	noOracle := mock(35)
	stateful := func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &handPages[mockapi.User]{base: base, c: c, pages: ceilPages, counter: new(int64(1))}
	}
	var cached int64
	cachedTotal := func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
		return &handPages[mockapi.User]{base: base, c: c, first: 1, pages: ceilPages, total: &cached}
	}
	noRequest := func(string, *http.Client) paginate.Paginator[mockapi.User] {
		all := mock(25).Records()
		return paginate.PaginatorFunc[mockapi.User](func(_ context.Context, pos paginate.Position) (paginate.Page[mockapi.User], error) {
			from := int(pos.Offset)
			to := min(from+10, len(all))
			return paginate.Page[mockapi.User]{Items: all[from:to], More: to < len(all), Next: paginate.Position{Offset: int64(to)}}, nil
		})
	}
	newPager := func(base string, c *http.Client) paginate.Paginator[rec] { return &pager{base: base, client: c} }
	recKey := func(r rec) string { return r.ID }
	emptyAPI, _ := pageAPI(0, 0)
	notOracle, _ := pageAPI(0, 0)
	notOracle.ItemsPath = ""
	emptyPage2, _ := pageAPI(3, 0, 3, 2)
	rerunOnly := []string{"resume", "fault", "drop", "cancel", "loop"}
	u := userCase[mockapi.User]
	return []kitCase{
		// Correct paginators.
		u("offset", true, paginatetest.Suite[mockapi.User]{Handler: mock(100), New: offsets(0, 0), Key: userKey}),
		u("pages", true, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: pagesOf(good), Key: userKey}),
		u("tokens-incremental", true, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: tokens(false), Key: userKey,
			Options: paginate.Options[mockapi.User]{HighWater: stamp}}),
		u("pages-clamped-repeated-ends", true, paginatetest.Suite[mockapi.User]{Handler: mockapi.New(mockapi.Config{Records: 93, Seed: 10, ClampPages: true, NoTotals: true}),
			New: pagesOf(handPages[mockapi.User]{first: 1}), Key: userKey, Options: paginate.Options[mockapi.User]{Checks: paginate.Checks[mockapi.User]{RepeatedPageEnds: true}}}),
		// Issue 20: an incremental sync by page number, resumed across a
		// change, which the runner protects once it knows how the
		// paginator reads (here, from its Describe).
		u("pages-incremental-described", true, paginatetest.Suite[mockapi.User]{Handler: mock(95), Key: userKey,
			New: func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
				p := pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, since: true})(base, c)
				return described[mockapi.User]{p, paginate.Description{ByPosition: true, SendsSince: true}}
			},
			Options: paginate.Options[mockapi.User]{HighWater: stamp}}),
		// Issue 21: a record type that keeps the key alone; the records the
		// source updated come again, and are not duplicates.
		userCase("pages-ids-only", true, paginatetest.Suite[idOnly]{Handler: mock(95), New: pagesOf(handPages[idOnly]{first: 1, pages: ceilPages}),
			Key: func(r idOnly) string { return r.ID }}),
		// Issue 21: an API whose page 2 is empty (it filters after paging).
		userCase("empty-page-2", true, paginatetest.Suite[rec]{Handler: emptyPage2, New: newPager, Key: recKey}),
		u("no-oracle-stated", true, paginatetest.Suite[mockapi.User]{Handler: http.HandlerFunc(noOracle.ServeHTTP), New: pagesOf(good), Key: userKey,
			NoOracle: "the handler is wrapped, for this test"}),

		// Buggy paginators.
		u("offset-off-by-one", false, paginatetest.Suite[mockapi.User]{Handler: mock(100), New: offsets(1, 0), Key: userKey}),
		u("pages-from-2", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: pagesOf(handPages[mockapi.User]{first: 2, pages: ceilPages}), Key: userKey}),
		u("pages-rounded-down", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: pagesOf(handPages[mockapi.User]{first: 1, pages: floorPages}), Key: userKey}),
		u("pages-from-0", false, paginatetest.Suite[mockapi.User]{Handler: zeroIsOne{mock(95)}, New: pagesOf(handPages[mockapi.User]{first: 0, pages: ceilPages}), Key: userKey}),
		u("drop-permanent", false, paginatetest.Suite[mockapi.User]{Handler: mock(25), New: pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, permanentDecode: true}), Key: userKey,
			Skip: []string{"resume", "fault", "cancel", "loop"}}),
		u("pages-stateful", false, paginatetest.Suite[mockapi.User]{Handler: mock(45), New: stateful, Key: userKey, Skip: []string{"fault", "drop", "cancel", "loop"}}),
		u("offset-back-on-resume", false, paginatetest.Suite[mockapi.User]{Handler: mock(50), New: offsets(0, 3), Key: userKey, Skip: []string{"fault", "drop", "cancel", "loop"}}),
		u("pages-cached-total", false, paginatetest.Suite[mockapi.User]{Handler: mock(45), New: cachedTotal, Key: userKey, Skip: rerunOnly}),
		// Issue 21: a full sync that filters, a look-back by default.
		u("pages-look-back", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, lookBack: "2024-06-01T00:00:00Z"}), Key: userKey}),
		// Issue 21: loops that are not past-the-end pages, alone and with
		// the opt-in that would take them for the end.
		u("tokens-reset-on-5xx", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: tokens(true), Key: userKey}),
		u("tokens-reset-on-5xx-repeated-ends", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: tokens(true), Key: userKey,
			Options: paginate.Options[mockapi.User]{Checks: paginate.Checks[mockapi.User]{RepeatedPageEnds: true}}}),
		u("pages-ignore-position", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, offsetTypo: true}), Key: userKey}),
		u("pages-ignore-position-repeated-ends", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, offsetTypo: true}), Key: userKey,
			Options: paginate.Options[mockapi.User]{Checks: paginate.Checks[mockapi.User]{RepeatedPageEnds: true}}}),
		u("pages-ignore-position-no-oracle", false, paginatetest.Suite[mockapi.User]{Handler: http.HandlerFunc(mock(95).ServeHTTP), New: pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, offsetTypo: true}), Key: userKey,
			NoOracle: "the handler is wrapped, for this test: the total the server reports tells the repeat from the end"}),
		u("pages-shared-cache-repeated-ends", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, cache: map[string][]byte{}}), Key: userKey,
			Options: paginate.Options[mockapi.User]{Checks: paginate.Checks[mockapi.User]{RepeatedPageEnds: true}, Concurrency: 1}}),
		// Issue 21: marks that lose the newest or tied records.
		u("cursor-exclusive-ties", false, paginatetest.Suite[mockapi.User]{Handler: mockapi.New(mockapi.Config{Records: 90, Seed: 5, TieRate: 0.3}),
			New: func(base string, c *http.Client) paginate.Paginator[mockapi.User] {
				return &handCursor{base: base, c: c}
			}, Key: userKey,
			Options: paginate.Options[mockapi.User]{HighWater: stamp}}),
		u("tokens-mark-an-hour-ahead", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), New: tokens(false), Key: userKey,
			Options: paginate.Options[mockapi.User]{HighWater: stampAhead}}),
		// Issue 20: the same sync, with nothing that says it reads by
		// position (no Describe, no TrackKeys): a record that moves across
		// the resume's boundary shifts another past it, for good.
		u("pages-incremental-unprotected", false, paginatetest.Suite[mockapi.User]{Handler: mock(95), Key: userKey,
			New:     pagesOf(handPages[mockapi.User]{first: 1, pages: ceilPages, since: true}),
			Options: paginate.Options[mockapi.User]{HighWater: stamp}}),
		// Issue 21: a resume that reads a record again, with the check that
		// would have seen it skipped.
		u("offset-back-1-on-resume", false, paginatetest.Suite[mockapi.User]{Handler: mock(50), New: offsets(0, 1), Key: userKey, Skip: []string{"rerun"}}),
		// Issue 21: a paginator that never reaches the Handler.
		u("no-request", false, paginatetest.Suite[mockapi.User]{Handler: mock(25), New: noRequest, Key: userKey}),

		// Suites that cannot check anything.
		u("no-oracle", false, paginatetest.Suite[mockapi.User]{Handler: http.HandlerFunc(noOracle.ServeHTTP), New: pagesOf(good), Key: userKey}),
		u("want-and-no-oracle", false, paginatetest.Suite[mockapi.User]{Handler: noOracle, New: pagesOf(good), Key: userKey, Want: noOracle.Records(), NoOracle: "contradiction"}),
		// Issue 21: an empty truth, from Want or from the oracle.
		userCase("want-empty", false, paginatetest.Suite[rec]{Handler: notOracle, New: newPager, Key: recKey, Want: []rec{}, Skip: []string{"loop", "rerun"}}),
		userCase("oracle-empty", false, paginatetest.Suite[rec]{Handler: emptyAPI, New: newPager, Key: recKey, Skip: []string{"loop", "rerun"}}),
	}
}

// TestKit runs the regression set: every correct paginator passes the
// suite, every buggy one fails it, and what the suite says of each is
// testdata/suites' block of its name.
func TestKit(t *testing.T) {
	g := loadGolden(t, "testdata/suites")
	for _, tc := range kitCases() {
		t.Run(tc.name, func(t *testing.T) {
			failed, transcript := tc.run(tc.name)
			switch {
			case tc.correct && failed:
				t.Errorf("the suite failed a correct paginator:\n%s", transcript)
			case !tc.correct && !failed:
				t.Errorf("the suite passed a buggy paginator:\n%s", transcript)
			}
			g.check(t, tc.name, transcript)
		})
	}
}

// TestKitThroughTestingT runs one buggy suite through a real *testing.T, in
// a child process so that it can fail: the kit's own tests use a recorder,
// and this checks that Suite.Run reports to a real test the same way.
func TestKitThroughTestingT(t *testing.T) {
	if os.Getenv("PAGINATETEST_CHILD") != "" {
		paginatetest.Suite[mockapi.User]{Handler: mock(100), New: offsets(1, 0), Key: userKey}.Run(t)
		return
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKitThroughTestingT$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "PAGINATETEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if exit := (*exec.ExitError)(nil); !errors.As(err, &exit) {
		t.Fatalf("the suite passed (err %v), want it to fail:\n%s", err, out)
	}
	for _, want := range []string{
		"--- FAIL: TestKitThroughTestingT/oracle",
		"full sync (10 pages, stop \"total reached\"): delivered 91 of the 100 records the API holds",
		"one record in every 11 never arrived",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
}

// TestHandWrittenPaginators: correct hand-written paginators pass the
// suite through a real *testing.T.
func TestHandWrittenPaginators(t *testing.T) {
	paginatetest.Suite[mockapi.User]{Handler: mock(100), New: offsets(0, 0), Key: userKey}.Run(t)
}
