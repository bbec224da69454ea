package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/pagekit/pagekit/internal/forward"
	"github.com/pagekit/pagekit/paginate"
)

// window is how many partitions may start past the first page of parents
// whose partitions have not all completed. It bounds the memory of a child
// stream's run, and what a crash makes a later run visit again: the
// partitions of the pages after the list's saved position, which resume
// from their own checkpoints.
const window = 4096

// maxFailures is how many failed partitions a StreamResult lists.
const maxFailures = 10

// fanout is one run of a child stream: it reads the parent's list and runs
// a partition for each parent, and saves the list's position only past
// pages whose partitions have all completed (or failed and been recorded
// for a retry), so that a crash at any moment loses no parent.
type fanout[P, C any] struct {
	c     *child[P, C]
	x     *execution
	name  string
	store paginate.Store
	ctx   context.Context

	mu        sync.Mutex
	state     childState // as saved, but for Failed
	found     bool
	pages     []*pageState // pages of parents not yet saved as done, oldest first
	unflushed int          // partitions started on those pages
	// moved is closed, and replaced, when the first of pages is saved
	// as done or held back: what room waits for.
	moved    chan struct{}
	failed   []failedPartition
	failedAt map[string]int
	dirty    bool // failed changed since the last save
	running  map[string]chan struct{}
	res      StreamResult
	saveErr  error
	wg       sync.WaitGroup
}

// pageState is one page of parents.
type pageState struct {
	cp   *paginate.Checkpoint // the list's checkpoint after the page, once the runner saved it
	n    int                  // partitions started
	open int                  // partitions running
	held bool                 // a partition was interrupted, or its failure could not be kept
}

func (c *child[P, C]) sync(ctx context.Context, x *execution, s *Stream) StreamResult {
	st := c.store()
	state, found, err := loadState(ctx, st, s.name)
	if err != nil {
		return StreamResult{Stop: stopFor(ctx), Err: err}
	}
	// Every partition has ended when sync returns, even when the list's
	// paginator panics: the partitions are cancelled, then waited for.
	ctx, cancel := context.WithCancel(ctx)
	f := &fanout[P, C]{
		c: c, x: x, name: s.name, store: st, ctx: ctx,
		state: state, found: found,
		moved:    make(chan struct{}),
		failed:   state.Failed,
		failedAt: make(map[string]int, len(state.Failed)),
		running:  make(map[string]chan struct{}),
	}
	for i, fp := range f.failed {
		f.failedAt[fp.Key] = i
	}
	defer f.wg.Wait()
	defer cancel()
	f.retryFailed(ctx)
	listRes, listErr := f.list(ctx)
	f.wg.Wait()

	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushLocked()
	if f.dirty {
		f.saveLocked()
	}
	r := f.result(ctx, listRes, listErr)
	// The list's state is kept under the stream's name: a process that
	// ran the connector must not keep others from listing it later.
	if err := unlock(ctx, st, s.name, s.name, nil); err != nil {
		r.Err = errors.Join(r.Err, err)
	}
	return r
}

// retryFailed starts the partitions an earlier run left failed.
func (f *fanout[P, C]) retryFailed(ctx context.Context) {
	retry := append([]failedPartition(nil), f.failed...)
	for _, fp := range retry {
		var parent P
		if err := json.Unmarshal(fp.Parent, &parent); err != nil {
			f.mu.Lock()
			f.res.Partitions.Run++
			f.failLocked(nil, fp.Key, nil, paginate.Result{Stop: paginate.StopError},
				fmt.Errorf("decode the parent record kept for its retry: %w", err))
			f.mu.Unlock()
			continue
		}
		f.mu.Lock()
		f.res.Partitions.Retried++
		f.mu.Unlock()
		if f.start(ctx, nil, fp.Key, parent) != nil {
			return
		}
	}
}

// list reads the parent's list from the saved position and starts a
// partition for each parent.
func (f *fanout[P, C]) list(ctx context.Context) (paginate.Result, error) {
	return f.c.readList(ctx, f.x, f.name, listSink[P, C]{f}, listStore[P, C]{f})
}

// listSink starts the partitions of each page of parents.
type listSink[P, C any] struct{ f *fanout[P, C] }

func (w listSink[P, C]) Write(ctx context.Context, items []P) error {
	f := w.f
	page := &pageState{}
	f.mu.Lock()
	f.pages = append(f.pages, page)
	f.mu.Unlock()
	for i := range items {
		if err := f.room(ctx, page); err != nil {
			return err
		}
		key := f.c.of.Key(items[i])
		if key == "" {
			return fmt.Errorf("connector: stream %q: parent record %d of the page has an empty partition key", f.name, i+1)
		}
		f.mu.Lock()
		f.res.Partitions.Parents++
		f.mu.Unlock()
		if err := f.start(ctx, page, key, items[i]); err != nil {
			return err
		}
	}
	return nil
}

// listStore keeps the list's checkpoint in the child's state, saved once
// the partitions of the pages before it are done.
type listStore[P, C any] struct{ f *fanout[P, C] }

func (s listStore[P, C]) Load(context.Context, string) (paginate.Checkpoint, bool, error) {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	return listStart(f.state.List, f.c.of.Every), f.found, nil
}

// Save takes the checkpoint after the page just written.
func (s listStore[P, C]) Save(_ context.Context, cp paginate.Checkpoint) error {
	f := s.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pages[len(f.pages)-1].cp = &cp
	f.flushLocked()
	return nil
}

// SaveKeys keeps the key hashes of a page of the list in the child's
// store, when it keeps keys (see paginate.KeyStore): the store writes
// them at the latest with the child's state that covers the page, so a
// list resumed after a crash knows the parents read before it and tells
// a parent that a shift brought back from a new one. A store that keeps
// no keys leaves a resumed list without them, and the runner then takes
// the list for drifted (paginate.DriftResume): the next run reads it again
// from its starting mark.
func (s listStore[P, C]) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	return forward.SaveKeys(ctx, s.f.store, stream, items, keys)
}

// LoadKeys returns the key hashes of the list's pages up to upTo records.
func (s listStore[P, C]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	return forward.LoadKeys(ctx, s.f.store, stream, upTo)
}

// RestartsStreams is the child's store's: a list whose place other
// settings saved starts over when the child's store restarts streams, as
// a platform's does, and fails otherwise, as the child's partitions do.
func (s listStore[P, C]) RestartsStreams() bool { return forward.RestartsStreams(s.f.store) }

// room waits until fewer than window partitions are started past the
// first page not yet done, not counting the page being read.
func (f *fanout[P, C]) room(ctx context.Context, current *pageState) error {
	for {
		f.mu.Lock()
		if f.unflushed-current.n < window {
			f.mu.Unlock()
			return nil
		}
		if f.pages[0].held {
			f.mu.Unlock()
			return fmt.Errorf("connector: stream %q: a partition of an earlier page of parents neither completed nor could be kept for a retry, and %d more partitions wait behind it: the list stops here, and the next run reads it again from that page", f.name, window)
		}
		ch := f.moved
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// start runs the partition of parent in a goroutine of its own, once no
// partition of the same key runs and a run slot is free. page is nil for a
// retry of an earlier failure.
func (f *fanout[P, C]) start(ctx context.Context, page *pageState, key string, parent P) error {
	done, err := f.claim(ctx, key)
	if err != nil {
		return err
	}
	if err := f.x.runs.Acquire(ctx, 1); err != nil {
		f.unclaim(key, done)
		return err
	}
	f.mu.Lock()
	f.res.Partitions.Run++
	if page != nil {
		page.n++
		page.open++
		f.unflushed++
	}
	f.mu.Unlock()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer f.x.recover()
		defer f.x.runs.Release(1)
		defer f.unclaim(key, done)
		res, err := f.c.run(ctx, f.x, f.name, key, parent)
		f.finish(ctx, page, key, parent, res, err)
	}()
	return nil
}

// claim waits until no partition of key runs, and marks key running.
func (f *fanout[P, C]) claim(ctx context.Context, key string) (chan struct{}, error) {
	for {
		f.mu.Lock()
		busy, ok := f.running[key]
		if !ok {
			done := make(chan struct{})
			f.running[key] = done
			f.mu.Unlock()
			return done, nil
		}
		f.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *fanout[P, C]) unclaim(key string, done chan struct{}) {
	f.mu.Lock()
	delete(f.running, key)
	f.mu.Unlock()
	close(done)
}

// finish records a partition's outcome and saves the list's position if
// that completed the oldest pages.
func (f *fanout[P, C]) finish(ctx context.Context, page *pageState, key string, parent P, res paginate.Result, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.res.Pages += res.Pages
	f.res.Items += res.Items
	f.res.Retries += res.Retries
	f.res.Resumed = f.res.Resumed || res.Resumed
	f.res.Drifts += res.DriftCount
	f.res.addWarnings(res.Warnings)
	switch {
	case err == nil:
		f.res.Partitions.Complete++
		if page == nil {
			f.removeFailed(key)
		}
	case ctx.Err() != nil:
		f.res.Partitions.Interrupted++
		if page != nil {
			page.held = true
		}
	default:
		f.failLocked(page, key, &parent, res, err)
	}
	if page != nil {
		page.open--
		f.flushLocked()
	}
}

// failLocked records a failed partition: in the result, and in the state
// for a retry, or else holds its page back.
func (f *fanout[P, C]) failLocked(page *pageState, key string, parent *P, res paginate.Result, err error) {
	f.res.Partitions.Failed++
	pe := &PartitionError{Stream: f.name, Key: key, Stop: res.Stop, Checkpoint: res.Checkpoint, Err: err}
	if len(f.res.Failures) < maxFailures {
		f.res.Failures = append(f.res.Failures, pe)
	}
	f.x.failed()
	if parent != nil && !f.keepFailed(key, *parent, err) && page != nil {
		page.held = true
	}
}

// keepFailed adds a failed partition to the state, or updates it there.
func (f *fanout[P, C]) keepFailed(key string, parent P, err error) bool {
	raw, merr := f.c.kept(parent, key)
	if merr != nil {
		return false
	}
	fp := failedPartition{Key: key, Parent: raw, Error: err.Error()}
	if i, ok := f.failedAt[key]; ok {
		f.failed[i] = fp
	} else {
		if len(f.failed) >= maxFailed {
			return false
		}
		f.failedAt[key] = len(f.failed)
		f.failed = append(f.failed, fp)
	}
	f.dirty = true
	return true
}

func (f *fanout[P, C]) removeFailed(key string) {
	i, ok := f.failedAt[key]
	if !ok {
		return
	}
	last := len(f.failed) - 1
	f.failed[i] = f.failed[last]
	f.failedAt[f.failed[i].Key] = i
	f.failed = f.failed[:last]
	delete(f.failedAt, key)
	f.dirty = true
}

// flushLocked saves the list's position past the oldest pages whose
// partitions are all done, and wakes room when the first page left is held
// back, which ends the list.
func (f *fanout[P, C]) flushLocked() {
	advanced := false
	for len(f.pages) > 0 {
		p := f.pages[0]
		if p.cp == nil || p.open > 0 || p.held {
			break
		}
		f.state.List = *p.cp
		f.unflushed -= p.n
		f.pages[0] = nil
		f.pages = f.pages[1:]
		advanced = true
	}
	if advanced {
		f.saveLocked()
	}
	if advanced || len(f.pages) > 0 && f.pages[0].held {
		close(f.moved)
		f.moved = make(chan struct{})
	}
}

// saveLocked saves the state. It saves even after a cancel: the data it
// accounts for is committed, and a cancelled run should lose no progress.
func (f *fanout[P, C]) saveLocked() {
	s := childState{List: f.state.List, Failed: f.failed}
	if err := saveState(context.WithoutCancel(f.ctx), f.store, f.name, s); err != nil {
		if f.saveErr == nil {
			f.saveErr = err
		}
		return
	}
	f.found = true
	f.dirty = false
}

// result is the stream's outcome once every partition has ended.
func (f *fanout[P, C]) result(ctx context.Context, listRes paginate.Result, listErr error) StreamResult {
	r := f.res
	r.Stop = listRes.Stop
	r.Resumed = r.Resumed || listRes.Resumed
	r.Drifts += listRes.DriftCount
	r.ReadsAgain = readsAgain(listRes)
	r.addWarnings(listRes.Warnings)
	r.Retries += listRes.Retries
	var errs []error
	if listErr != nil {
		errs = append(errs, listErr)
	}
	if f.saveErr != nil {
		errs = append(errs, f.saveErr)
	}
	p := r.Partitions
	if p.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d partitions failed; the first: %w", p.Failed, p.Run, r.Failures[0]))
	}
	if p.Interrupted > 0 && listErr == nil {
		errs = append(errs, fmt.Errorf("%d partitions interrupted: %w", p.Interrupted, ctx.Err()))
	}
	r.Err = errors.Join(errs...)
	return r
}

// stopFor is the stop reason of an error that ended a stream before it
// ran.
func stopFor(ctx context.Context) paginate.StopReason {
	if ctx.Err() != nil {
		return paginate.StopCancelled
	}
	return paginate.StopError
}
