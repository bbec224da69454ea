package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
)

func TestConnectorSummary(t *testing.T) {
	failed := &connector.PartitionError{Stream: "orders", Key: "u7", Err: errors.New("404 Not Found")}
	res := connector.Result{Duration: 1234 * time.Millisecond, Streams: []connector.StreamResult{
		{Stream: "users", Pages: 4, Items: 200, Stop: paginate.StopTotalReached, Duration: 41 * time.Millisecond},
		{Stream: "orders", Parent: "users", Pages: 231, Items: 6012, Retries: 2, Stop: paginate.StopTotalReached, Duration: 1200 * time.Millisecond,
			Partitions: connector.Partitions{Parents: 200, Run: 201, Complete: 200, Failed: 1, Retried: 1},
			Failures:   []*connector.PartitionError{failed}, Err: fmt.Errorf("1 of 201 partitions failed; the first: %w", failed)},
	}}
	var b bytes.Buffer
	ConnectorSummary(&b, res, errors.New("some stream failed"))
	want := []string{
		"Sync of 2 streams failed in 1.234s.",
		"+--------+--------+----------+---------------------------+-------+---------+---------+---------------+----------+",
		"| stream | parent | status   | partitions                | pages | records | retries | stop          | duration |",
		"+--------+--------+----------+---------------------------+-------+---------+---------+---------------+----------+",
		"| users  |        | complete |                           | 4     | 200     | 0       | total reached | 41ms     |",
		"| orders | users  | failed   | 201 (1 failed, 1 retried) | 231   | 6012    | 2       | total reached | 1.2s     |",
		"+--------+--------+----------+---------------------------+-------+---------+---------+---------------+----------+",
	}
	got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		res  connector.Result
		err  error
		want string
	}{
		{connector.Result{}, nil, "complete"},
		{connector.Result{Streams: []connector.StreamResult{{Stop: paginate.StopMaxPages}}}, nil, "stopped early"},
		{connector.Result{}, fmt.Errorf("x: %w", context.Canceled), "interrupted"},
		{connector.Result{}, context.DeadlineExceeded, "timed out"},
	} {
		if got := connectorStatus(tc.res, tc.err); got != tc.want {
			t.Errorf("status of %+v, %v = %q, want %q", tc.res, tc.err, got, tc.want)
		}
	}
}

func TestConnectorProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := NewConnectorProgress(&b, false)
	p.Observe(connector.Event{Kind: connector.EventStreamStarted, Stream: "orders"})
	p.Observe(connector.Event{Kind: connector.EventRun, Stream: "orders", Partition: "u1", Run: paginate.Event{Kind: paginate.EventPageCommitted, Items: 3}})
	p.Logger.Info("paginate: page committed") // below the level without verbose
	p.Logger.Warn("paginate: retry", "stream", "orders/u1")
	r := connector.StreamResult{Stream: "orders", Parent: "users", Items: 3, Pages: 1, Stop: paginate.StopLastPage, Partitions: connector.Partitions{Run: 1, Complete: 1}}
	p.Observe(connector.Event{Kind: connector.EventStreamDone, Stream: "orders", Result: &r})
	p.Finish()
	out := b.String()
	for _, want := range []string{`msg="stream started" stream=orders`, `msg="paginate: retry" stream=orders/u1`, `msg="stream done" stream=orders status=complete records=3 pages=1`, "partitions=1 failed=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "page committed") || strings.Contains(out, "\r") {
		t.Errorf("output has page lines or a redrawn line:\n%s", out)
	}
}

// TestConnectorProgressPlainConcurrent logs from a run's goroutine while
// events arrive, as a connector does, into a writer that is not safe for
// concurrent use; the race detector holds the lines to one writer at a time.
func TestConnectorProgressPlainConcurrent(t *testing.T) {
	var b bytes.Buffer
	p := NewConnectorProgress(&b, true)
	const n = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			<-start
			for range n {
				p.Logger.Warn("retry", "stream", "orders")
			}
		})
	}
	wg.Go(func() {
		<-start
		for range n {
			p.Observe(connector.Event{Kind: connector.EventStreamStarted, Stream: "users"})
		}
	})
	close(start)
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 3*n {
		t.Errorf("%d lines, want %d", got, 3*n)
	}
}
