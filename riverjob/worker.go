package riverjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/paginate"
	"github.com/riverqueue/river"
)

// Output is what a job records on its row, as River's metadata "output",
// which River's UI shows with the job.
type Output struct {
	// Items is how many records the attempt committed; Pages how many
	// pages, when known (a partition completed in its last page's
	// transaction records Items only).
	Items int64 `json:"items"`
	Pages int   `json:"pages,omitempty"`
	// Stop is how the run ended, when known.
	Stop string `json:"stop,omitempty"`
	// Drifts counts the signs that the data moved while the run paged
	// through it (see paginate.Drift), such as parents that shifted
	// under a list: the next run reads again from where this one
	// started, so that nothing a shift slid past is lost.
	Drifts int `json:"drifts,omitempty"`
	// Partitions and Inserted are a list job's: the partitions listed,
	// and those inserted as new jobs (the others were still queued or
	// running).
	Partitions int `json:"partitions,omitempty"`
	Inserted   int `json:"inserted,omitempty"`
	// Reruns is a list job's partitions whose jobs ran when it listed
	// them, and which run again once those end (see [RerunArgs]).
	Reruns int `json:"reruns,omitempty"`
}

// partitionWorker works PartitionArgs jobs: it runs the partition with
// the connector's runner and sinks.
type partitionWorker[TTx any] struct {
	river.WorkerDefaults[PartitionArgs]
	j *Jobs[TTx]
}

func (w *partitionWorker[TTx]) Work(ctx context.Context, job *river.Job[PartitionArgs]) error {
	c, err := w.j.connector(job.Args.Connector)
	if err != nil {
		return err
	}
	run := &jobRun{job: job, checkpoint: job.Args.Partition().Checkpoint()}
	res, err := c.RunPartition(context.WithValue(ctx, runKey{}, run), job.Args.Partition())
	if run.completed.Load() {
		// The last page, its checkpoint and the job's completion
		// committed together: the partition is done, whatever the run
		// said after.
		if err != nil {
			w.j.log(ctx, slog.LevelWarn, "riverjob: the partition completed with its last page, then its run reported an error",
				jobAttrs(job.JobRow.ID, job.Args.Connector, run.checkpoint, err)...)
		}
		return nil
	}
	if err == nil {
		// Completed by River after Work returns: the sink cannot run a
		// function in its transaction, or the run stopped at a limit.
		_ = river.RecordOutput(ctx, Output{Items: res.Items, Pages: res.Pages, Stop: res.Stop.String(), Drifts: res.DriftCount})
		return nil
	}
	return w.j.failed(ctx, job.ID, job.Args.Connector, run.checkpoint, res, err)
}

// listWorker works ListArgs jobs: it lists a child stream's partitions and
// inserts a partition job for each.
type listWorker[TTx any] struct {
	river.WorkerDefaults[ListArgs]
	j *Jobs[TTx]
}

func (w *listWorker[TTx]) Work(ctx context.Context, job *river.Job[ListArgs]) error {
	c, err := w.j.connector(job.Args.Connector)
	if err != nil {
		return err
	}
	client, err := river.ClientFromContextSafely[TTx](ctx)
	if err != nil {
		return river.JobCancel(fmt.Errorf("riverjob: the River client working the job does not have the transaction type of its Jobs: %w", err))
	}
	var out Output
	res, err := c.Partitions(ctx, job.Args.Stream, func(ctx context.Context, parts []connector.Partition) error {
		ins, err := w.j.insertPartitions(ctx, client, job.Args.Connector, parts)
		if err != nil {
			return err
		}
		out.Partitions += len(parts)
		for _, r := range ins {
			if !r.UniqueSkippedAsDuplicate {
				out.Inserted++
			}
		}
		// A partition whose job runs may have read its pages before the
		// change that listed its parent: it runs again after that job.
		n, err := w.j.insertReruns(ctx, client, job.Args.Connector, parts, ins)
		out.Reruns += n
		return err
	})
	if err != nil {
		return w.j.failed(ctx, job.ID, job.Args.Connector, job.Args.Stream, res, err)
	}
	out.Items, out.Pages, out.Stop, out.Drifts = res.Items, res.Pages, res.Stop.String(), res.DriftCount
	_ = river.RecordOutput(ctx, out)
	return nil
}

// failed returns what a job whose run ended with err returns to River.
func (j *Jobs[TTx]) failed(ctx context.Context, id int64, name, what string, res paginate.Result, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && res.Pages > 0:
		// The job ran out of time (the client's JobTimeout, or the
		// worker's) after it committed pages: it goes on from its
		// checkpoint, at once, without using up an attempt.
		j.log(ctx, slog.LevelInfo, "riverjob: the job ran out of time after committing pages; it goes on from its checkpoint",
			append(jobAttrs(id, name, what, err), slog.Int("pages", res.Pages))...)
		return river.JobSnooze(0)
	case ctx.Err() != nil:
		// A stop of the client (a cancel makes River put the job back
		// without using an attempt) or a timeout without progress.
		return err
	case j.permanent(err):
		j.log(ctx, slog.LevelError, "riverjob: permanent error: the job is cancelled, not retried", jobAttrs(id, name, what, err)...)
		return river.JobCancel(fmt.Errorf("permanent: %w", err))
	}
	return err
}

func (j *Jobs[TTx]) permanent(err error) bool {
	if j.cfg.Permanent != nil {
		return j.cfg.Permanent(err)
	}
	return IsPermanent(err)
}

func jobAttrs(id int64, name, what string, err error) []slog.Attr {
	return []slog.Attr{slog.Int64("job", id), slog.String("connector", name), slog.String("partition", what),
		slog.String("error", err.Error())}
}
