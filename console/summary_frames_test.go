package console

import (
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
// at 80 and 40, every line fitting.
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
