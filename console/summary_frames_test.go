package console

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
)

// noKey is the warning of a sync by position that no key protects, as the
// runner gives it.
const noKey = "the paginator reads by position, and no key is known (Options.Key, or a sink with a primary key): " +
	"a record that the source shifts across a page boundary during the sync is skipped unseen, and the next " +
	"sync starts past it; set Options.Key"

// connectorResult is a run of three streams: a child whose partitions
// partly failed and whose data moved, and a warning two streams gave.
func connectorResult() (connector.Result, error) {
	failed := &connector.PartitionError{Stream: "orders", Key: "u7", Err: errors.New("404 Not Found")}
	res := connector.Result{Duration: 1234 * time.Millisecond, Streams: []connector.StreamResult{
		{Stream: "users", Pages: 4, Items: 200, Stop: paginate.StopTotalReached, Duration: 41 * time.Millisecond, Warnings: []string{noKey}},
		{Stream: "orders", Parent: "users", Pages: 231, Items: 6012, Retries: 2, Stop: paginate.StopTotalReached, Duration: 1200 * time.Millisecond,
			Partitions: connector.Partitions{Parents: 200, Run: 201, Complete: 200, Failed: 1, Retried: 1}, Drifts: 3,
			Failures: []*connector.PartitionError{failed}, Err: fmt.Errorf("1 of 201 partitions failed; the first: %w", failed),
			Warnings: []string{noKey}},
		{Stream: "events", Pages: 8, Items: 200, Stop: paginate.StopNoNextToken, Duration: 80 * time.Millisecond},
	}}
	return res, &connector.StreamError{Stream: "orders", Err: res.Streams[1].Err}
}

// TestConnectorSummaryFrames: the table at 120 columns, a line a stream
// at 80 and 40, every line fitting; drift and the warning two streams
// gave said once, in words, under it.
func TestConnectorSummaryFrames(t *testing.T) {
	res, err := connectorResult()
	for _, width := range []int{120, 80, 40} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			v := newVT(width)
			connectorSummary(v, width, res, err)
			checkScreen(t, v, width)
			golden(t, fmt.Sprintf("connector-summary-%d.txt", width), v.frame())
			screen := v.frame()
			joined := strings.Join(strings.Fields(screen), " ")
			if table := strings.Contains(screen, "| stream "); table != (width == 120) {
				t.Errorf("a table at %d columns: %v, want %v:\n%s", width, table, width == 120, screen)
			}
			for _, want := range []string{"warning (users, orders): " + noKey, "drift: the data changed during the sync (orders: 3 signs)"} {
				if n := strings.Count(joined, want); n != 1 {
					t.Errorf("%q %d times, want once:\n%s", want, n, screen)
				}
			}
			if width < 120 && !strings.Contains(joined, "201 partitions of users (1 failed, 1 retried)") {
				t.Errorf("no line says what the partitions did:\n%s", screen)
			}
		})
	}
}

// TestConnectorSummaryNarrowNames: a stream whose name is long, or that
// stopped early, still reads as a line of words that fits.
func TestConnectorSummaryNarrowNames(t *testing.T) {
	res := connector.Result{Duration: time.Second, Streams: []connector.StreamResult{
		{Stream: "users", Pages: 1, Items: 1, Stop: paginate.StopLastPage, Duration: time.Millisecond},
		{Stream: "organization_membership_audit_log_entries", Pages: 10, Items: 500, Stop: paginate.StopMaxPages, Duration: 300 * time.Millisecond},
	}}
	v := newVT(80)
	connectorSummary(v, 80, res, nil)
	checkScreen(t, v, 80)
	want := "Sync of 2 streams stopped early in 1s.\n" +
		"  users                     complete       1 record, 1 page, 1ms\n" +
		"  organization_membership_audit_log_entries  stopped early\n" +
		"                                           500 records, 10 pages, 300ms (stop:\n" +
		"                                           max pages)\n"
	if got := v.frame(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestConnectorWarningsOnce: on a terminal, a warning that each of a
// child's 50 partitions logs is not printed above the line 50 times; the
// summary says it once.
func TestConnectorWarningsOnce(t *testing.T) {
	v := newVT(80)
	c := newClock()
	p := newConnectorProgress(v, false, true, fixed(80), c.now, 0)
	p.Observe(connector.Event{Kind: connector.EventStreamStarted, Stream: "orders"})
	for i := range 50 {
		key := fmt.Sprintf("u%d", i)
		l := p.Logger.With("partition", key)
		l.Warn("paginate: warning", "stream", "orders/"+key, "warning", noKey)
		p.Observe(connector.Event{Kind: connector.EventRun, Stream: "orders", Partition: key, Run: paginate.Event{Kind: paginate.EventDone, Result: &paginate.Result{}}})
	}
	r := connector.StreamResult{Stream: "orders", Parent: "users", Stop: paginate.StopLastPage, Partitions: connector.Partitions{Run: 50, Complete: 50}, Warnings: []string{noKey}}
	p.Observe(connector.Event{Kind: connector.EventStreamDone, Stream: "orders", Result: &r})
	p.Finish()
	connectorSummary(v, 80, connector.Result{Streams: []connector.StreamResult{r}}, nil)
	checkScreen(t, v, 80)
	if n := strings.Count(strings.Join(strings.Fields(v.frame()), " "), noKey); n != 1 {
		t.Errorf("the warning is on screen %d times, want once:\n%s", n, v.frame())
	}
}

// pagesByPosition is a paginator of three pages of two numbers, read by
// page number, that says so.
type pagesByPosition struct{}

func (pagesByPosition) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[int], error) {
	page := max(pos.Page, 1)
	return paginate.Page[int]{Items: []int{int(2 * page), int(2*page + 1)}, More: page < 3, Next: paginate.Position{Page: page + 1, Offset: 2 * page}}, nil
}

func (pagesByPosition) Describe() paginate.Description { return paginate.Description{ByPosition: true} }

// TestSummaryWarnings runs a sync that the runner cannot protect (by
// position without a key, HighWater set and no request sends it) with its
// progress and summary on one terminal: each warning is said once, in
// words, in the summary; and the summary's long values are wrapped to the
// width. Not on a terminal, each warning is a log line.
func TestSummaryWarnings(t *testing.T) {
	opts := paginate.Options[int]{Stream: "user", HighWater: func(n int) string { return fmt.Sprintf("2024-01-%02dT00:00:00Z", n) }}
	for _, width := range []int{80, 120} {
		v := newVT(width)
		c := newClock()
		p := newProgress(v, "user", false, true, fixed(width), c.now, 0)
		o := opts
		o.Logger, o.Observe = p.Logger, p.Observe
		res, err := paginate.Run(context.Background(), pagesByPosition{}, new(paginate.MemorySink[int]), o)
		if err != nil || len(res.Warnings) != 2 {
			t.Fatalf("run: %v, warnings %q; want two", err, res.Warnings)
		}
		res.Duration = 1500 * time.Millisecond
		res.DriftCount, res.Drifts = 2, []paginate.Drift{{Kind: paginate.DriftDuplicate, Position: paginate.Position{Page: 2}, Key: "0f6b7a2e-5d4c-4b1a-9e8f-112233445566"}}
		summary(v, width, res, err)
		checkScreen(t, v, width)
		screen := v.frame()
		for _, w := range res.Warnings {
			if n := strings.Count(strings.Join(strings.Fields(screen), " "), w); n != 1 {
				t.Errorf("%d columns: warning %q is on screen %d times, want once, in the summary:\n%s", width, w, n, screen)
			}
		}
		golden(t, fmt.Sprintf("summary-%d.txt", width), screen)
	}

	var b strings.Builder
	p := NewProgress(&b, "user", false)
	o := opts
	o.Logger, o.Observe = p.Logger, p.Observe
	if _, err := paginate.Run(context.Background(), pagesByPosition{}, new(paginate.MemorySink[int]), o); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `level=WARN msg="paginate: warning" stream=user warning=`); n != 2 {
		t.Errorf("%d warnings in the log, want 2:\n%s", n, b.String())
	}
}
