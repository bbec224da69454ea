package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/pagekit/pagekit/internal/forward"
	"github.com/pagekit/pagekit/paginate"
)

// ErrStopped is the error of a stream that Config.FailFast stopped because
// another stream failed.
var ErrStopped = errors.New("connector: stopped because another stream failed (Config.FailFast)")

// Run syncs the streams named, or every stream when none is named, at
// once, within the connector's limits, and returns each stream's outcome.
//
// Each top-level stream is one paginate.Run from its checkpoint. Each child
// stream reads its parent's list from its own checkpoint and runs a
// partition for each parent as the list's pages arrive, each from the
// partition's own checkpoint; partitions that failed in an earlier run are
// retried first. Streams and partitions run concurrently, Config.Runs at a
// time, their requests within the Limiter's budget and rates.
//
// A stream that fails does not stop the others unless Config.FailFast is
// set. The error joins a *StreamError for each stream that failed or was
// interrupted; it is nil when every stream completed or stopped at a
// limit. Cancelling ctx stops every stream after the pages being committed,
// and the error then matches ctx's. Naming a stream the connector does not
// have fails with ErrUnknownStream before anything runs.
func (c *Connector) Run(ctx context.Context, streams ...string) (Result, error) {
	sel, err := c.selectStreams(streams)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	outer := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := c.newExecution(cancel)
	res := Result{Streams: make([]StreamResult, len(sel))}
	var wg sync.WaitGroup
	for i, s := range sel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer x.recover()
			x.emitStream(s, Event{Kind: EventStreamStarted, Stream: s.name})
			started := time.Now()
			r := s.impl.sync(ctx, x, s)
			r.Stream = s.name
			if s.parent != nil {
				r.Parent = s.parent.name
			}
			r.Duration = time.Since(started)
			if ctx.Err() != nil && outer.Err() == nil && r.Partitions.Failed == 0 && errors.Is(r.Err, context.Canceled) {
				// Stopped by another stream's failure, not by the caller.
				r.Err = ErrStopped
			}
			res.Streams[i] = r
			if r.Err != nil || r.Partitions.Failed > 0 {
				x.failed()
			}
			x.logStream(ctx, &r)
			x.emitStream(s, Event{Kind: EventStreamDone, Stream: s.name, Result: &r})
		}()
	}
	wg.Wait()
	x.repanic()
	res.Duration = time.Since(start)
	var errs []error
	for _, r := range res.Streams {
		if r.Err != nil {
			errs = append(errs, &StreamError{Stream: r.Stream, Err: r.Err})
		}
	}
	return res, errors.Join(errs...)
}

// RunPartition runs one partition on its own, within the connector's
// limits: a top-level stream (Key and Parent empty), or the partition of
// one parent record of a child stream (Parent holds the record as JSON, as
// [Connector.Partitions] gives it). It resumes from the partition's
// checkpoint, as a partition of Run does. It is how a job queue runs a
// connector one partition at a time.
func (c *Connector) RunPartition(ctx context.Context, p Partition) (paginate.Result, error) {
	return c.alone(p.Stream, p.Checkpoint(), func(x *execution, s *Stream) (paginate.Result, error) {
		return s.impl.runPartition(ctx, x, s, p)
	})
}

// execution is the state one Run (or RunPartition) shares between its
// streams.
type execution struct {
	c      *Connector
	runs   *semaphore.Weighted
	cancel context.CancelFunc // nil outside Run

	obsMu sync.Mutex

	bypassMu sync.Mutex
	bypassed map[string]bool

	panicked atomic.Pointer[panicValue]
}

type panicValue struct {
	v     any
	stack []byte
}

func (c *Connector) newExecution(cancel context.CancelFunc) *execution {
	runs := c.cfg.Runs
	if runs <= 0 {
		runs = 2 * c.lim.InFlight()
	}
	return &execution{c: c, runs: semaphore.NewWeighted(int64(runs)), cancel: cancel, bypassed: make(map[string]bool)}
}

// failed stops every stream when the connector fails fast.
func (x *execution) failed() {
	if x.c.cfg.FailFast && x.cancel != nil {
		x.cancel()
	}
}

// recover keeps a panic of a goroutine of the run, to raise it again on
// the caller's goroutine once every other goroutine has stopped.
func (x *execution) recover() {
	if v := recover(); v != nil {
		x.panicked.CompareAndSwap(nil, &panicValue{v: v, stack: debug.Stack()})
		if x.cancel != nil {
			x.cancel()
		}
	}
}

func (x *execution) repanic() {
	if p := x.panicked.Load(); p != nil {
		panic(fmt.Sprintf("connector: panic in a stream's goroutine: %v\n\n%s", p.v, p.stack))
	}
}

// limit wraps p so that each fetch takes a slot of the in-flight budget.
// The wrapper keeps what paginate.Run asks of p besides Fetch (see package
// forward): its Identity, its Validate, its Plan (parallel fetches) and
// its Describe (the drift detection Run turns on by itself).
func limit[T any](x *execution, p paginate.Paginator[T], stream string) paginate.Paginator[T] {
	l := &limited[T]{p: p, l: x.c.lim}
	if x.c.lim.rated() {
		l.bypass = func() { x.warnBypass(stream) }
	}
	return forward.Paginator(p, l.Fetch)
}

// warnBypass logs, once a stream, that its requests do not go through the
// Limiter, so the rates and pauses do not apply to them.
func (x *execution) warnBypass(stream string) {
	x.bypassMu.Lock()
	seen := x.bypassed[stream]
	x.bypassed[stream] = true
	x.bypassMu.Unlock()
	if !seen && x.c.cfg.Logger != nil {
		x.c.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn,
			"connector: the stream's requests do not go through Limiter.Client or Limiter.Transport, so the per-host rates and Retry-After pauses do not apply to them",
			slog.String("stream", stream))
	}
}

// logger returns the logger of one run: the stream's own, or the
// connector's, with the partition key.
func (x *execution) logger(own *slog.Logger, stream, key string) *slog.Logger {
	l := own
	if l == nil {
		l = x.c.cfg.Logger
	}
	if l == nil || key == "" {
		return l
	}
	return l.With(slog.String("partition", key))
}

// observer returns the Observe of one run: the stream's own, called as
// paginate calls it, and the connector's, with the stream and partition.
// Calls from every run of the execution are serialized.
func (x *execution) observer(own func(paginate.Event), stream, key string, parents bool) func(paginate.Event) {
	if own == nil && x.c.cfg.Observe == nil {
		return nil
	}
	return func(e paginate.Event) {
		x.obsMu.Lock()
		defer x.obsMu.Unlock()
		if own != nil {
			own(e)
		}
		if x.c.cfg.Observe != nil {
			x.c.cfg.Observe(Event{Kind: EventRun, Stream: stream, Partition: key, Parents: parents, Run: e})
		}
	}
}

// emit sends a connector event to Config.Observe.
func (x *execution) emit(e Event) {
	if x.c.cfg.Observe == nil {
		return
	}
	x.obsMu.Lock()
	defer x.obsMu.Unlock()
	x.c.cfg.Observe(e)
}

// emitStream sends an event of the stream s to Config.Observe, and to the
// stream's destination when it is a StreamObserver.
func (x *execution) emitStream(s *Stream, e Event) {
	x.emit(e)
	if o, ok := s.impl.dest().(StreamObserver); ok {
		o.ObserveStream(e)
	}
}

// logStream logs a stream's outcome.
func (x *execution) logStream(ctx context.Context, r *StreamResult) {
	l := x.c.cfg.Logger
	if l == nil {
		return
	}
	lvl := slog.LevelInfo
	if r.Err != nil && !errors.Is(r.Err, context.Canceled) || r.Partitions.Failed > 0 {
		lvl = slog.LevelError // an interrupt is not an error
	}
	attrs := []slog.Attr{slog.String("stream", r.Stream), slog.String("status", r.Status()),
		slog.Int("pages", r.Pages), slog.Int64("items", r.Items), slog.Duration("duration", r.Duration),
		slog.String("stop", r.Stop.String())}
	if r.Parent != "" {
		p := r.Partitions
		attrs = append(attrs, slog.Int64("parents", p.Parents), slog.Int("partitions", p.Run),
			slog.Int("complete", p.Complete), slog.Int("failed", p.Failed), slog.Int("interrupted", p.Interrupted))
	}
	if r.ReadsAgain {
		attrs = append(attrs, slog.String("reads_again", "the sync drifted: the next one reads again from where it started"))
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String("error", r.Err.Error()))
	}
	l.LogAttrs(ctx, lvl, "connector: stream done", attrs...)
}
