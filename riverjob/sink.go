package riverjob

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/pagekit/pagekit/internal/forward"
	"github.com/pagekit/pagekit/paginate"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// A TxCommitter is a sink that can run a function in the transaction that
// commits a page and its checkpoint: the PostgreSQL sink (TTx pgx.Tx) and
// the SQLite sink (TTx *sql.Tx).
type TxCommitter[T, TTx any] interface {
	paginate.Sink[T]
	paginate.Committer[T]
	paginate.Store
	CommitTx(ctx context.Context, items []T, cp paginate.Checkpoint, inTx func(context.Context, TTx) error) error
}

// Completing returns s, made to complete a partition's job in the
// transaction that commits the partition's last page and checkpoint, when
// it runs in a job of [Jobs] on a River client of the same transaction
// type TTx. Declare a connector's streams with their sinks wrapped in it:
//
//	users := connector.NewStream("users", api, riverjob.Completing(usersSink), opts)
//
// A crash can then never leave the data committed and the job pending (to
// be run again), or the job completed and the data not. Out of a job, and
// for every other page, it commits as s does. s must be in the database
// River keeps its jobs in.
//
// Without it a partition still syncs exactly, but River marks its job
// completed a moment after the last page commits: a worker that dies in
// that moment leaves the job to be rescued, and the partition then syncs
// again, incrementally, from its complete checkpoint.
//
// The sink Completing returns keeps what s offers the runner and the
// connector besides committing: its table (connector.Tabler), its key
// (paginate.Keyer), the keys of a sync in progress (paginate.KeyStore),
// its identity and its stream locks.
func Completing[T, TTx any](s TxCommitter[T, TTx]) paginate.Sink[T] {
	return forward.Sink[T](&completing[T, TTx]{s: s}, s)
}

// completing is the sink Completing returns.
type completing[T, TTx any] struct {
	s TxCommitter[T, TTx]
}

// jobRun is the partition job a run of a partition belongs to, carried in
// the run's context.
type jobRun struct {
	job        *river.Job[PartitionArgs]
	checkpoint string // the partition's checkpoint key
	items      atomic.Int64
	completed  atomic.Bool
}

type runKey struct{}

// ErrJobLost reports a job that stopped being the worker's while it ran:
// the rescuer gave it to another worker, or it was cancelled. Its last
// page is rolled back, since the job's new owner commits it.
var ErrJobLost = errors.New("riverjob: the job is no longer this worker's")

func (c *completing[T, TTx]) Write(ctx context.Context, items []T) error {
	return c.s.Write(ctx, items)
}

func (c *completing[T, TTx]) Load(ctx context.Context, stream string) (paginate.Checkpoint, bool, error) {
	return c.s.Load(ctx, stream)
}

func (c *completing[T, TTx]) Save(ctx context.Context, cp paginate.Checkpoint) error {
	return c.s.Save(ctx, cp)
}

// SaveKeys keeps the keys of a page of stream's sync in s, when s keeps
// keys (see paginate.KeyStore). Without them, a resumed run counts as
// drifted, and the next sync reads again what this one read.
func (c *completing[T, TTx]) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	return forward.SaveKeys(ctx, c.s, stream, items, keys)
}

// LoadKeys returns the keys of stream's sync that s keeps, if it keeps
// keys.
func (c *completing[T, TTx]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	return forward.LoadKeys(ctx, c.s, stream, upTo)
}

// Identity is s's, so that checkpoints name the destination as they would
// without Completing, and a stream moved to another table is refused
// instead of resumed there (see paginate.Identity).
func (c *completing[T, TTx]) Identity() paginate.Identity { return forward.Identity(c.s) }

// RestartsStreams is s's (see paginate.RestartingStore).
func (c *completing[T, TTx]) RestartsStreams() bool { return forward.RestartsStreams(c.s) }

// Unlock releases the stream's lock when s is a sink that locks streams
// (the PostgreSQL sink), so that the connector still releases each
// partition's lock when its run ends.
func (c *completing[T, TTx]) Unlock(ctx context.Context, stream string) error {
	return forward.Unlock(ctx, c.s, stream)
}

// Commit commits items and cp as s does; when cp ends the sync of the
// partition of the job ctx runs in (its position is back at the start),
// it completes the job in the same transaction.
func (c *completing[T, TTx]) Commit(ctx context.Context, items []T, cp paginate.Checkpoint) error {
	run, _ := ctx.Value(runKey{}).(*jobRun)
	if run == nil || cp.Stream != run.checkpoint || !cp.Position.IsStart() {
		return c.commit(ctx, run, items, cp)
	}
	if _, err := river.ClientFromContextSafely[TTx](ctx); err != nil {
		return c.commit(ctx, run, items, cp) // a client of another database type
	}
	n := run.items.Load() + int64(len(items))
	err := c.s.CommitTx(ctx, items, cp, func(ctx context.Context, tx TTx) error {
		return completeJob(ctx, tx, run.job, n)
	})
	if err != nil {
		return err
	}
	run.items.Store(n)
	run.completed.Store(true)
	return nil
}

func (c *completing[T, TTx]) commit(ctx context.Context, run *jobRun, items []T, cp paginate.Checkpoint) error {
	if err := c.s.Commit(ctx, items, cp); err != nil {
		return err
	}
	if run != nil {
		run.items.Add(int64(len(items)))
	}
	return nil
}

// completeJob completes job in tx, and fails when the job is no longer the
// worker's: JobCompleteTx reports a job that is no longer running without
// an error, and completes a job another worker runs at a later attempt.
func completeJob[TTx any](ctx context.Context, tx TTx, job *river.Job[PartitionArgs], items int64) error {
	if err := river.RecordOutput(ctx, Output{Items: items}); err != nil {
		return fmt.Errorf("riverjob: job %d: %w", job.ID, err)
	}
	done, err := river.JobCompleteTx[riverdriver.Driver[TTx]](ctx, tx, job)
	if err != nil {
		return fmt.Errorf("riverjob: complete job %d: %w", job.ID, err)
	}
	if done.State != rivertype.JobStateCompleted || done.Attempt != job.Attempt {
		return fmt.Errorf("%w: job %d is %s at attempt %d, and this worker runs attempt %d", ErrJobLost, job.ID, done.State, done.Attempt, job.Attempt)
	}
	return nil
}

var _ forward.Destination[int] = (*completing[int, any])(nil)
