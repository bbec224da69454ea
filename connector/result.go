package connector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pagekit/pagekit/paginate"
)

// Result is the outcome of a connector run: one StreamResult for each
// stream run, in the connector's order.
type Result struct {
	// Streams holds the streams' outcomes.
	Streams []StreamResult
	// Duration is the run's wall time.
	Duration time.Duration
}

// Stream returns the result of the stream named name, and whether it ran.
func (r Result) Stream(name string) (StreamResult, bool) {
	for _, s := range r.Streams {
		if s.Stream == name {
			return s, true
		}
	}
	return StreamResult{}, false
}

// Complete reports whether every stream read its data to the end, every
// partition included.
func (r Result) Complete() bool {
	for _, s := range r.Streams {
		if !s.Complete() {
			return false
		}
	}
	return true
}

// StreamResult is the outcome of one stream. For a child stream the
// counts add up its partitions.
type StreamResult struct {
	// Stream is the stream's name; Parent its parent's, empty for a
	// top-level stream.
	Stream string
	Parent string
	// Pages and Items count what was committed in this run; Retries the
	// failed attempts that were tried again.
	Pages   int
	Items   int64
	Retries int
	// Duration is the stream's wall time.
	Duration time.Duration
	// Stop says why the stream's run ended; for a child stream, why its
	// read of the parent's list ended.
	Stop paginate.StopReason
	// Resumed is true when the run went on from a checkpoint left by an
	// interrupted run (for a child, when its list or any partition did).
	Resumed bool
	// Drifts counts the signs that the data moved while the run paged
	// through it (see paginate.Drift): the stream's, or for a child its
	// read of the parent's list's and its partitions'. A run that saw
	// drift keeps the mark it started from, so that the next run reads
	// again what a shift may have skipped.
	Drifts int
	// ReadsAgain reports that the run completed a sync that drifted, in
	// this run or in an earlier run it resumed (for a child, its read of
	// the parent's list): the mark stays where that sync started, and
	// the next run reads again from there what a shift may have skipped,
	// such as a parent whose partition never ran. Until then the
	// destination may lack those records.
	ReadsAgain bool
	// Warnings say what the run could not protect against a source that
	// changes (see paginate.Result.Warnings): the stream's, or a child's
	// list's and its partitions', each once.
	Warnings []string
	// Err is what failed, nil when nothing did. For a child stream it
	// joins the error of its parent list, if any, and the first failed
	// partition's, a *PartitionError.
	Err error
	// Partitions counts a child stream's partitions.
	Partitions Partitions
	// Failures lists the first failed partitions of a child stream
	// (at most 10).
	Failures []*PartitionError
}

// Partitions counts the partitions of a child stream in one run.
type Partitions struct {
	// Parents is the number of parent records read from the parent's list.
	Parents int64
	// Run is the partitions started: one per parent, plus those retried.
	Run int
	// Complete, Failed and Interrupted split Run by outcome.
	Complete, Failed, Interrupted int
	// Retried is the partitions that a failure in an earlier run left to
	// retry, run again first.
	Retried int
}

// Complete reports whether the stream read its data to its end: the run
// (for a child, the parent list and every partition) stopped on the data's
// end, not on an error, a cancellation or a limit.
func (r StreamResult) Complete() bool {
	p := r.Partitions
	return r.Err == nil && r.Stop.Complete() && p.Failed == 0 && p.Interrupted == 0
}

// Status returns the outcome in a word: "complete", "failed",
// "interrupted" or "stopped early" (at a limit).
func (r StreamResult) Status() string {
	switch {
	case r.Stop == paginate.StopCancelled || errors.Is(r.Err, context.Canceled) || r.Partitions.Interrupted > 0 && r.Partitions.Failed == 0 && r.Err == nil:
		return "interrupted"
	case r.Err != nil || r.Partitions.Failed > 0:
		return "failed"
	case !r.Stop.Complete():
		return "stopped early"
	}
	return "complete"
}

// StreamError is the error of one stream in a connector run's error.
type StreamError struct {
	// Stream is the stream's name.
	Stream string
	// Err is the stream's error, StreamResult.Err.
	Err error
}

// Error names the stream.
func (e *StreamError) Error() string { return fmt.Sprintf("stream %q: %v", e.Stream, e.Err) }

// Unwrap returns the stream's error.
func (e *StreamError) Unwrap() error { return e.Err }

// PartitionError is the error of one partition of a child stream.
type PartitionError struct {
	// Stream is the child stream's name.
	Stream string
	// Key is the partition key.
	Key string
	// Stop and Checkpoint say where the partition's run stopped; the next
	// run resumes it from there.
	Stop       paginate.StopReason
	Checkpoint paginate.Checkpoint
	// Err is the partition's error.
	Err error
}

// Error names the stream and the partition.
func (e *PartitionError) Error() string {
	return fmt.Sprintf("stream %q, partition %q: %v", e.Stream, e.Key, e.Err)
}

// Unwrap returns the partition's error.
func (e *PartitionError) Unwrap() error { return e.Err }

// topResult is the StreamResult of a top-level stream's run.
func topResult(s *Stream, res paginate.Result, err error) StreamResult {
	return StreamResult{
		Stream:   s.name,
		Pages:    res.Pages,
		Items:    res.Items,
		Retries:  res.Retries,
		Duration: res.Duration,
		Stop:     res.Stop,
		Resumed:  res.Resumed,
		Drifts:   res.DriftCount,
		Warnings: res.Warnings,
		Err:      err,
		// A stream that failed after its sync completed keeps the
		// checkpoint all the same.
		ReadsAgain: readsAgain(res),
	}
}

// readsAgain reports whether res completed a sync whose next sync reads
// again from where it started: one that drifted keeps its Since rather
// than take its high-water mark (see paginate.Checkpoint).
func readsAgain(res paginate.Result) bool {
	cp := res.Checkpoint
	return res.Stop.Complete() && cp.Position.IsStart() && cp.Position.Since != cp.HighWater
}

// addWarnings adds to r the warnings of ws it does not hold yet.
func (r *StreamResult) addWarnings(ws []string) {
	for _, w := range ws {
		if !slices.Contains(r.Warnings, w) {
			r.Warnings = append(r.Warnings, w)
		}
	}
}
