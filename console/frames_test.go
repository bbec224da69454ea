package console

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata")

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./console -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// clock is a clock the test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func fixed(n int) func() int         { return func() int { return n } }
func checkScreen(t *testing.T, v *vt, w int) {
	t.Helper()
	if v.err != nil {
		t.Errorf("terminal: %v", v.err)
	}
	if v.wraps > 0 {
		t.Errorf("%d characters went past column %d: a line wrapped", v.wraps, w)
	}
	for i, l := range v.screen() {
		if n := utf8.RuneCountInString(l); n > w {
			t.Errorf("line %d has %d columns, more than %d: %q", i+1, n, w, l)
		}
	}
}

// status503 is the error a strategy returns for a 503 with an HTML page.
func status503() error {
	return &strategies.HTTPError{Method: "GET", URL: "http://127.0.0.1:5001/pagination/page_number?order_by=updatedAt&page=12&per_page=50",
		StatusCode: 503, Status: "503 Service Unavailable", Body: []byte("<html><head><title>503</title></head><body>busy</body></html>")}
}

// syncScenario drives a Progress through a sync with faults as the runner
// would, taking a frame of the terminal at each step a person would look.
func syncScenario(t *testing.T, width int, stream string) []string {
	v := newVT(width)
	c := newClock()
	p := newProgress(v, stream, false, true, fixed(width), c.now, 0)
	var frames []string
	snap := func() { frames = append(frames, v.frame()) }
	commit := func(page int64) {
		c.add(400 * time.Millisecond)
		p.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Position: paginate.Position{Page: page, Offset: (page - 1) * 50, Since: "2024-01-01T00:00:00Z"},
			Items: 50, ItemsDone: page * 50, Pages: int(page), TotalItems: 2000, TotalPages: 40})
	}
	for page := int64(1); page <= 11; page++ {
		commit(page)
	}
	snap()
	// Page 12 fails three times: one line under the bar says so.
	for attempt := 1; attempt <= 3; attempt++ {
		c.add(100 * time.Millisecond)
		p.Observe(paginate.Event{Kind: paginate.EventRetry, Position: paginate.Position{Page: 12, Since: "2024-01-01T00:00:00Z"},
			Attempt: attempt, Delay: time.Duration(attempt) * 600 * time.Millisecond, Err: status503()})
		p.Logger.Warn("paginate: retry", "stream", stream, "error", status503().Error()) // shown by the line, not printed
	}
	c.add(500 * time.Millisecond)
	p.redraw() // as the ticker does: the time moves while page 12 waits
	snap()
	p.Logger.Warn("paginate: drift", "stream", stream, "position", "page 14", "kind", "key seen twice", "key", "0f6b7a2e-5d4c-4b1a-9e8f-112233445566")
	for page := int64(12); page <= 20; page++ {
		commit(page)
	}
	c.add(5 * time.Second) // the retry line goes once it is old
	p.redraw()
	snap()
	p.Observe(paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{Items: 1000, Pages: 20, TotalItems: 2000, Stop: paginate.StopCancelled}})
	snap()
	checkScreen(t, v, width)
	return frames
}

// TestBarFrames: at 80 and 120 columns, with a long stream name and on a
// narrow terminal, every line fits, the retries are one line under the
// bar, a warning is printed above it, and the frames are as kept in
// testdata.
func TestBarFrames(t *testing.T) {
	for _, tc := range []struct {
		width  int
		stream string
	}{{80, "user"}, {120, "user"}, {80, "a-stream-with-a-rather-long-name-of-forty"}, {40, "user"}} {
		t.Run(fmt.Sprintf("%d-%s", tc.width, tc.stream), func(t *testing.T) {
			frames := syncScenario(t, tc.width, tc.stream)
			golden(t, fmt.Sprintf("bar-%d-%d.txt", tc.width, len(tc.stream)), strings.Join(frames, "----\n"))
			last := frames[len(frames)-1]
			if n := strings.Count(last, "retrying"); n != 0 {
				t.Errorf("the final frame still shows a retry:\n%s", last)
			}
			if strings.Contains(last, "<html>") || strings.Contains(last, "delay=") {
				t.Errorf("raw retry detail on screen:\n%s", last)
			}
			if tc.width >= 80 && !strings.Contains(frames[1], "retrying page 12: 503 Service Unavailable (4th attempt in 1.3s)") {
				t.Errorf("the retry is not summarised under the bar:\n%s", frames[1])
			}
		})
	}
}

// TestRetriesSummarised: hundreds of retries leave the screen as it was
// but for the count, and never print the HTML of the errors.
func TestRetriesSummarised(t *testing.T) {
	v := newVT(80)
	c := newClock()
	p := newProgress(v, "user", false, true, fixed(80), c.now, 0)
	for i := range 346 {
		c.add(10 * time.Millisecond)
		p.Observe(paginate.Event{Kind: paginate.EventRetry, Position: paginate.Position{Page: int64(i%40 + 1)}, Attempt: 1 + i%5, Delay: time.Second, Err: status503()})
		p.Logger.Warn("paginate: retry", "error", status503().Error())
		if i%10 == 0 {
			p.Observe(paginate.Event{Kind: paginate.EventPageCommitted, Position: paginate.Position{Page: int64(i/10 + 1)}, Items: 50, ItemsDone: int64(50 * (i/10 + 1)), Pages: i/10 + 1})
		}
	}
	p.Observe(paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{Items: 1750, Pages: 35}})
	checkScreen(t, v, 80)
	screen := v.screen()
	if len(screen) > 2 {
		t.Errorf("346 retries left %d lines on the screen, want the bar alone:\n%s", len(screen), v.frame())
	}
	if !strings.Contains(screen[0], "346 retries") {
		t.Errorf("the bar does not count the retries: %q", screen[0])
	}
}

// TestBarKeepsMoving: with the real ticker, the bar's time moves while no
// event arrives (a page waiting for its retry).
func TestBarKeepsMoving(t *testing.T) {
	var mu sync.Mutex
	v := newVT(80)
	w := writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return v.Write(b) })
	p := newProgress(w, "user", false, true, fixed(80), time.Now, 20*time.Millisecond)
	p.Observe(paginate.Event{Kind: paginate.EventRetry, Position: paginate.Position{Page: 2}, Attempt: 1, Delay: time.Second, Err: status503()})
	read := func() string { mu.Lock(); defer mu.Unlock(); return v.screen()[0] }
	first := read()
	deadline := time.Now().Add(5 * time.Second)
	for read() == first && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if read() == first {
		t.Errorf("the bar did not move in 5s: %q", first)
	}
	p.Observe(paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{}})
	mu.Lock()
	checkScreen(t, v, 80)
	mu.Unlock()
}

// TestOneErrorMessage runs a real sync that fails, with its progress,
// summary and report on one terminal: the error is said once, at the end,
// with what to do next.
func TestOneErrorMessage(t *testing.T) {
	for _, width := range []int{80, 120} {
		v := newVT(width)
		c := newClock()
		p := newProgress(v, "user", false, true, fixed(width), c.now, 0)
		api := paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
			if pos.Page >= 3 {
				return paginate.Page[int]{}, status503()
			}
			page := max(pos.Page, 1)
			return paginate.Page[int]{Items: []int{int(2 * page), int(2*page + 1)}, More: true, Next: paginate.Position{Page: page + 1}}, nil
		})
		res, err := paginate.Run(context.Background(), api, new(paginate.MemorySink[int]), paginate.Options[int]{
			Stream: "user", Logger: p.Logger, Observe: p.Observe,
			Retry: paginate.Retry{MaxAttempts: 3, BackOff: func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }},
		})
		res.Duration = 1500 * time.Millisecond
		Summary(v, res, err)
		code := report(v, width, "pagenumber", err)
		checkScreen(t, v, width)
		screen := v.frame()
		if n := strings.Count(screen, "503 Service Unavailable"); n != 1 {
			t.Errorf("%d columns: the error is on screen %d times, want once:\n%s", width, n, screen)
		}
		if n := strings.Count(screen, "error:"); n != 1 {
			t.Errorf("%d columns: %d error messages, want one:\n%s", width, n, screen)
		}
		if !strings.Contains(strings.ReplaceAll(screen, "\n  ", " "), "run the same command again later") || code != 1 {
			t.Errorf("%d columns: exit %d, or no advice:\n%s", width, code, screen)
		}
		golden(t, fmt.Sprintf("error-%d.txt", width), screen)
	}
}

// TestInterruptMessage: Ctrl-C ends with a message that is not an error
// and says how to go on, and exit status 130.
func TestInterruptMessage(t *testing.T) {
	v := newVT(80)
	c := newClock()
	p := newProgress(v, "user", false, true, fixed(80), c.now, 0)
	ctx, cancel := context.WithCancel(context.Background())
	api := paginate.PaginatorFunc[int](func(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
		if pos.Page >= 3 {
			<-ctx.Done() // page 3 hangs until Ctrl-C
			return paginate.Page[int]{}, ctx.Err()
		}
		page := max(pos.Page, 1)
		return paginate.Page[int]{Items: []int{int(2 * page), int(2*page + 1)}, More: true, Next: paginate.Position{Page: page + 1}}, nil
	})
	observe := func(e paginate.Event) {
		p.Observe(e)
		if e.Kind == paginate.EventPageCommitted && e.Pages == 2 {
			c.add(time.Second)
			cancel() // Ctrl-C once two pages are in
		}
	}
	res, err := paginate.Run(ctx, api, new(paginate.MemorySink[int]), paginate.Options[int]{Stream: "user", Logger: p.Logger, Observe: observe})
	res.Duration = 1500 * time.Millisecond
	Summary(v, res, err)
	code := report(v, 80, "pagenumber", err)
	checkScreen(t, v, 80)
	screen := v.frame()
	if code != 130 || strings.Contains(strings.ToLower(screen), "error") || !strings.Contains(screen, "pagenumber: interrupted. What was committed is kept") {
		t.Errorf("exit %d; want 130 and an interrupt that is not an error:\n%s", code, screen)
	}
	golden(t, "interrupt-80.txt", screen)
}

// TestAdvice: the advice speaks of flags, not of Go fields.
func TestAdvice(t *testing.T) {
	mm := &paginate.MismatchError{Stream: "user", Position: paginate.Position{Page: 5},
		Changes: []paginate.Change{{Part: "size", Saved: "50", Now: "20"}}}
	timeout := &paginate.FetchError{Position: paginate.Position{Page: 3}, Attempts: 6,
		Err: &strategies.HTTPError{Method: "GET", URL: "http://x/", Err: fmt.Errorf("%w: no response headers within 1s", strategies.ErrTimeout)}}
	for _, tc := range []struct {
		err  error
		want []string
		not  []string
	}{
		{fmt.Errorf("paginate: %w", mm), []string{`error: the checkpoint of stream "user" (at page 5) was saved with other settings: size "50", now "20"`, "-restart", "-reset"}, []string{"Options.Restart"}},
		{timeout, []string{"-timeout"}, nil},
		{&strategies.HTTPError{StatusCode: http.StatusUnauthorized, Status: "401 Unauthorized"}, []string{"credentials"}, nil},
		{errors.Join(&connector.StreamError{Stream: "orders", Err: errors.New("boom")}, &connector.StreamError{Stream: "events", Err: context.Canceled}),
			[]string{`error: stream "orders": boom`}, []string{"events", "interrupted"}},
		{errors.Join(&connector.StreamError{Stream: "orders", Err: context.Canceled}), []string{"interrupted"}, []string{"error"}},
		// A position that expired again after a restart: no resume is
		// promised, the next run starts over.
		{&paginate.FetchError{Position: paginate.Position{Token: "/q/01gQ9-20"}, Err: &strategies.HTTPError{StatusCode: 400, Status: "400 Bad Request",
			Err: paginate.ErrPositionExpired}}, []string{"starts the sync over"}, []string{"resume", "check -url"}},
	} {
		got := Message(tc.err)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("Message(%v) lacks %q:\n%s", tc.err, w, got)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("Message(%v) has %q:\n%s", tc.err, w, got)
			}
		}
	}
}

// TestConnectorFrames drives a ConnectorProgress as a connector run does:
// partitions start (and end) before the page of parents that holds them is
// committed, and partitions an earlier run left failed run before the list
// is read. The partitions done never pass those known, every line fits,
// and the frames are as kept in testdata.
func TestConnectorFrames(t *testing.T) {
	for _, width := range []int{80, 120} {
		v := newVT(width)
		c := newClock()
		p := newConnectorProgress(v, false, true, fixed(width), c.now, 0)
		var frames []string
		run := func(stream, part string, parents bool, e paginate.Event) {
			c.add(20 * time.Millisecond)
			p.Observe(connector.Event{Kind: connector.EventRun, Stream: stream, Partition: part, Parents: parents, Run: e})
		}
		for _, s := range []string{"users", "orders", "events"} {
			p.Observe(connector.Event{Kind: connector.EventStreamStarted, Stream: s})
		}
		// Two partitions left failed by the last run, retried first.
		for _, k := range []string{"u0a", "u0b"} {
			run("orders", k, false, paginate.Event{Kind: paginate.EventPageCommitted, Items: 20, Pages: 1})
			run("orders", k, false, paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{}})
		}
		for page := range 3 {
			for i := range 50 {
				k := fmt.Sprintf("u%d-%d", page, i)
				run("orders", k, false, paginate.Event{Kind: paginate.EventPageCommitted, Items: 20, Pages: 1})
				if i%7 == 3 {
					run("orders", k, false, paginate.Event{Kind: paginate.EventRetry, Position: paginate.Position{Page: 2}, Attempt: 1, Delay: time.Second, Err: status503()})
				}
				run("orders", k, false, paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{}})
			}
			run("orders", "", true, paginate.Event{Kind: paginate.EventPageCommitted, Items: 50, TotalItems: 250})
			run("users", "", false, paginate.Event{Kind: paginate.EventPageCommitted, Items: 50, TotalItems: 250})
			p.redraw()
			frames = append(frames, v.frame())
			if got := v.screen()[0]; strings.Contains(got, "(152 of 100") || strings.Contains(got, "of 50 partitions") {
				t.Errorf("more partitions done than known: %q", got)
			}
		}
		p.Observe(connector.Event{Kind: connector.EventStreamDone, Stream: "events", Result: &connector.StreamResult{Stream: "events"}})
		c.add(5 * time.Second)
		p.Finish()
		frames = append(frames, v.frame())
		checkScreen(t, v, width)
		golden(t, fmt.Sprintf("connector-%d.txt", width), strings.Join(frames, "----\n"))
		last := v.screen()[len(v.screen())-1]
		if !strings.Contains(last, "1 stream done") || !(strings.Contains(last, "152 of 250 partitions") || strings.Contains(last, "orders 152/250")) {
			t.Errorf("%d columns: the last line is %q", width, last)
		}
	}
}

// TestGridFits: on a terminal of 80 columns the widest columns are cut
// until the box fits.
func TestGridFits(t *testing.T) {
	cells := [][]string{{"id", "name", "email", "company", "updatedAt"},
		{"74151be4-ab1a-44dc-ac4d-7c264531c62a", "Debra Alvarez", "dalvarez0@example.net", "Miller, Martin and King", "2022-01-01T07:54:43.000000Z"}}
	v := newVT(80)
	printGrid(v, cells, 80)
	checkScreen(t, v, 80)
	golden(t, "grid-80.txt", v.frame())
}

// TestStatus: on a terminal, one line redrawn in place, lines printed
// above it, its time moving; otherwise a line per Print and no status.
func TestStatus(t *testing.T) {
	v := newVT(80)
	c := newClock()
	s := newStatus(v, true, fixed(80), c.now, 0)
	for i := range 50 {
		c.add(100 * time.Millisecond)
		if i == 20 {
			s.Print("job 21 (orders u21): failed (to be retried), attempt 1: 503 Service Unavailable")
		}
		s.Set(fmt.Sprintf("worker w1: %d jobs completed; last: job %d (orders 0f6b7a2e-5d4c-4b1a-9e8f-112233445566) completed", i+1, i+1))
	}
	s.Close()
	s.Print("worker w1: drained and stopped; 50 jobs completed in 5s")
	checkScreen(t, v, 80)
	golden(t, "status-80.txt", v.frame())
	if n := len(v.screen()); n != 3 {
		t.Errorf("%d lines, want the failure, the end and the status:\n%s", n, v.frame())
	}

	var b strings.Builder
	s = newStatus(&b, false, fixed(80), c.now, 0)
	s.Set("ignored")
	s.Print("job 1 (users): completed, attempt 1")
	fmt.Fprint(s, "level=WARN msg=x\n") // a logger writing to it
	s.Close()
	if b.String() != "job 1 (users): completed, attempt 1\nlevel=WARN msg=x\n" {
		t.Errorf("not on a terminal: %q", b.String())
	}
}

// TestNoBarBeforeTheFirstPage: a run that stops before its first page (a
// checkpoint saved by other settings) leaves no empty bar behind.
func TestNoBarBeforeTheFirstPage(t *testing.T) {
	v := newVT(80)
	p := newProgress(v, "user", false, true, fixed(80), newClock().now, 0)
	p.Observe(paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{Stop: paginate.StopError}})
	if s := v.frame(); s != "\n" {
		t.Errorf("want an empty screen, got:\n%s", s)
	}
}
