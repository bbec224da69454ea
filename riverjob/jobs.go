package riverjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Config configures [Jobs]. Connectors is required; the other fields have
// useful zero values.
type Config struct {
	// Connectors are the connectors whose syncs run as jobs, by name.
	// The name is in every job's arguments: every process that inserts
	// or works the jobs of one River database must know each connector
	// by the same name, with the same streams.
	Connectors map[string]*connector.Connector

	// Queue is the River queue the jobs are inserted in. Empty means
	// River's default queue.
	Queue string

	// MaxAttempts is how many times a job that fails with a transient
	// error is tried before River discards it. Zero means the River
	// client's MaxAttempts (25 by default).
	MaxAttempts int

	// Permanent reports whether an error that ended a job is permanent:
	// one that trying again cannot cure. Such a job is cancelled at once,
	// with the error kept on it, instead of retried. Nil means
	// [IsPermanent].
	Permanent func(error) bool

	// Logger receives a line for each job that ends in an unusual way
	// (cancelled as permanent, out of time, completed but with an error
	// after its last page). Nil means silence; River logs every failed
	// attempt itself.
	Logger *slog.Logger
}

// Jobs runs connectors' syncs as River jobs, on a River client whose
// transactions are of type TTx: pgx.Tx for riverpgxv5 (PostgreSQL), *sql.Tx
// for riversqlite (SQLite). Register its workers with [Jobs.AddWorkers] on
// every worker, and insert syncs with [Jobs.Enqueue] or on a schedule with
// [Jobs.PeriodicJobs].
//
// A sync is one job per stream partition: a [PartitionArgs] job for each
// top-level stream, and a [ListArgs] job for each child stream, which
// inserts a PartitionArgs job for each parent record as the parent's list
// is read. Jobs of one partition are unique while one is queued or
// running, so inserting a sync while the last one still runs inserts only
// the partitions that are not running.
type Jobs[TTx any] struct {
	cfg Config
}

// New returns the Jobs of cfg's connectors.
func New[TTx any](cfg Config) (*Jobs[TTx], error) {
	if len(cfg.Connectors) == 0 {
		return nil, errors.New("riverjob: Config.Connectors is empty")
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Connectors)) {
		if name == "" {
			return nil, errors.New("riverjob: a connector has an empty name")
		}
		if cfg.Connectors[name] == nil {
			return nil, fmt.Errorf("riverjob: connector %q is nil", name)
		}
	}
	if cfg.MaxAttempts < 0 {
		return nil, fmt.Errorf("riverjob: Config.MaxAttempts is %d", cfg.MaxAttempts)
	}
	return &Jobs[TTx]{cfg: cfg}, nil
}

// ErrUnknownConnector reports a connector name that Config.Connectors does
// not have.
var ErrUnknownConnector = errors.New("riverjob: no such connector")

// connector returns the connector named name.
func (j *Jobs[TTx]) connector(name string) (*connector.Connector, error) {
	c := j.cfg.Connectors[name]
	if c == nil {
		return nil, fmt.Errorf("%w: %q (this process has %q)", ErrUnknownConnector, name, slices.Sorted(maps.Keys(j.cfg.Connectors)))
	}
	return c, nil
}

// AddWorkers registers the workers of the partition, list and rerun jobs. Every
// client that works the jobs needs them, and so does every client that
// can be elected leader: River's leader rescues the jobs of dead workers
// and discards those of a kind it does not know.
func (j *Jobs[TTx]) AddWorkers(workers *river.Workers) error {
	if err := river.AddWorkerSafely(workers, &partitionWorker[TTx]{j: j}); err != nil {
		return fmt.Errorf("riverjob: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &listWorker[TTx]{j: j}); err != nil {
		return fmt.Errorf("riverjob: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &rerunWorker[TTx]{j: j}); err != nil {
		return fmt.Errorf("riverjob: %w", err)
	}
	return nil
}

// Enqueue inserts a sync of the connector named name: of the streams
// named, or of every stream when none is named. A partition whose job is
// still queued or running is not inserted again: its result has
// UniqueSkippedAsDuplicate set. The results are in the connector's stream
// order.
func (j *Jobs[TTx]) Enqueue(ctx context.Context, client *river.Client[TTx], name string, streams ...string) ([]*rivertype.JobInsertResult, error) {
	params, err := j.syncParams(name, streams)
	if err != nil {
		return nil, err
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("riverjob: enqueue connector %q: %w", name, err)
	}
	return res, nil
}

// EnqueueTx is [Jobs.Enqueue] in the transaction tx: the sync is inserted
// if and only if tx commits.
func (j *Jobs[TTx]) EnqueueTx(ctx context.Context, client *river.Client[TTx], tx TTx, name string, streams ...string) ([]*rivertype.JobInsertResult, error) {
	params, err := j.syncParams(name, streams)
	if err != nil {
		return nil, err
	}
	res, err := client.InsertManyTx(ctx, tx, params)
	if err != nil {
		return nil, fmt.Errorf("riverjob: enqueue connector %q: %w", name, err)
	}
	return res, nil
}

// PeriodicJobs returns the periodic jobs that insert a sync of the
// connector named name every interval: of the streams named, or of every
// stream. Give them to river.Config.PeriodicJobs of every client that can
// be elected leader, since only the leader inserts periodic jobs.
//
// Each stream has its own periodic job (ID "pagekit/<connector>/<stream>").
// A tick finds the stream's job still queued or running skips it, as the
// list of a child stream skips the partitions whose jobs still run, so a
// slow sync is never run twice at once. The jobs run when a leader starts
// too (RunOnStart), so that a change of leader does not put syncs off by
// an interval.
func (j *Jobs[TTx]) PeriodicJobs(name string, interval time.Duration, streams ...string) ([]*river.PeriodicJob, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("riverjob: periodic sync of connector %q: interval %v", name, interval)
	}
	params, err := j.syncParams(name, streams)
	if err != nil {
		return nil, err
	}
	out := make([]*river.PeriodicJob, len(params))
	for i, p := range params {
		out[i] = river.NewPeriodicJob(river.PeriodicInterval(interval),
			func() (river.JobArgs, *river.InsertOpts) { return p.Args, p.InsertOpts },
			&river.PeriodicJobOpts{ID: periodicID(name, p.Args), RunOnStart: true})
	}
	return out, nil
}

func periodicID(name string, args river.JobArgs) string {
	switch a := args.(type) {
	case PartitionArgs:
		return "pagekit/" + name + "/" + a.Stream
	case ListArgs:
		return "pagekit/" + name + "/" + a.Stream
	}
	return "pagekit/" + name
}

// syncParams returns the jobs of a sync of the streams named of the
// connector named name: a partition job for a top-level stream, a list
// job for a child stream.
func (j *Jobs[TTx]) syncParams(name string, streams []string) ([]river.InsertManyParams, error) {
	c, err := j.connector(name)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(streams))
	for _, s := range streams {
		if c.Stream(s) == nil {
			return nil, fmt.Errorf("riverjob: connector %q: %w: %q", name, connector.ErrUnknownStream, s)
		}
		want[s] = true
	}
	var params []river.InsertManyParams
	for _, s := range c.Streams() {
		if len(want) > 0 && !want[s.Name()] {
			continue
		}
		var args river.JobArgs = PartitionArgs{Connector: name, Stream: s.Name()}
		if s.Parent() != nil {
			args = ListArgs{Connector: name, Stream: s.Name()}
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: j.insertOpts()})
	}
	return params, nil
}

// insertOpts are the options of every insert; the unique options come
// from the arguments' InsertOpts.
func (j *Jobs[TTx]) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{Queue: j.cfg.Queue, MaxAttempts: j.cfg.MaxAttempts}
}

// insertPartitions inserts a partition job for each of parts, of the
// connector named name. A batch must not hold one unique key twice, so a
// partition listed twice is inserted once, with its last parent record.
func (j *Jobs[TTx]) insertPartitions(ctx context.Context, client *river.Client[TTx], name string, parts []connector.Partition) ([]*rivertype.JobInsertResult, error) {
	at := make(map[string]int, len(parts))
	params := make([]river.InsertManyParams, 0, len(parts))
	for _, p := range parts {
		args := PartitionArgs{Connector: name, Stream: p.Stream, Key: p.Key, Parent: p.Parent}
		if i, ok := at[p.Key]; ok {
			params[i].Args = args
			continue
		}
		at[p.Key] = len(params)
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: j.insertOpts()})
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("riverjob: insert %d partitions of connector %q: %w", len(params), name, err)
	}
	return res, nil
}

// log writes a line to Config.Logger, if any.
func (j *Jobs[TTx]) log(ctx context.Context, level slog.Level, msg string, attrs ...slog.Attr) {
	if l := j.cfg.Logger; l != nil {
		l.LogAttrs(ctx, level, msg, attrs...)
	}
}
