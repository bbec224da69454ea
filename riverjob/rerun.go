package riverjob

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// RerunArgs are the arguments of a job that syncs a partition of a child
// stream once more, after the job of it that ran when a list job listed
// it has ended.
//
// A list job lists a parent because it changed since the last list (or
// sits at its mark), which is when its partition may have new records.
// When the partition's job is already running, its insert is skipped (jobs
// of a partition are unique while queued or running), and that job may
// have read the partition's pages before the change: the list then leaves
// a rerun job, which inserts the partition's job as soon as none runs,
// and snoozes while one does. The partition's new job reads from the
// partition's checkpoint, so it costs a request when nothing changed.
// Jobs of one rerun are unique while queued or running, by Connector,
// Stream and Key.
type RerunArgs struct {
	// Connector is the name the connector has in [Config].Connectors.
	Connector string `json:"connector" river:"unique"`
	// Stream is the child stream's name.
	Stream string `json:"stream" river:"unique"`
	// Key is the partition key.
	Key string `json:"key" river:"unique"`
	// Parent is what the partition needs of its parent record, as the
	// list job listed it (see PartitionArgs.Parent).
	Parent json.RawMessage `json:"parent,omitempty"`
}

// KindRerun is the River job kind of [RerunArgs].
const KindRerun = "pagekit_rerun"

// Kind returns [KindRerun].
func (RerunArgs) Kind() string { return KindRerun }

// InsertOpts makes jobs of a rerun unique while queued or running.
func (RerunArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{UniqueOpts: uniqueOpts} }

// maxRerunWait is the longest a rerun job snoozes at a time while the
// partition's job runs.
const maxRerunWait = time.Minute

// rerunWorker works RerunArgs jobs.
type rerunWorker[TTx any] struct {
	river.WorkerDefaults[RerunArgs]
	j *Jobs[TTx]
}

func (w *rerunWorker[TTx]) Work(ctx context.Context, job *river.Job[RerunArgs]) error {
	if _, err := w.j.connector(job.Args.Connector); err != nil {
		return err
	}
	client, err := river.ClientFromContextSafely[TTx](ctx)
	if err != nil {
		return river.JobCancel(fmt.Errorf("riverjob: the River client working the job does not have the transaction type of its Jobs: %w", err))
	}
	a := job.Args
	res, err := w.j.insertPartitions(ctx, client, a.Connector, []connector.Partition{{Stream: a.Stream, Key: a.Key, Parent: a.Parent}})
	if err != nil {
		return err
	}
	if running(res[0]) {
		// Snoozes do not use up attempts; the wait doubles, from a
		// second, up to maxRerunWait.
		return river.JobSnooze(min(time.Second<<min(snoozes(job.JobRow), 6), maxRerunWait))
	}
	return nil
}

// running reports whether an insert was skipped because a job of the same
// partition runs.
func running(r *rivertype.JobInsertResult) bool {
	return r.UniqueSkippedAsDuplicate && r.Job != nil && r.Job.State == rivertype.JobStateRunning
}

// snoozes returns how many times River snoozed the job.
func snoozes(j *rivertype.JobRow) int {
	var md struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(j.Metadata, &md)
	return md.Snoozes
}

// insertReruns inserts a rerun job for each partition of parts whose insert
// ins skipped because a job of it runs, and returns how many it inserted.
func (j *Jobs[TTx]) insertReruns(ctx context.Context, client *river.Client[TTx], name string, parts []connector.Partition, ins []*rivertype.JobInsertResult) (int, error) {
	byKey := make(map[string]connector.Partition, len(parts))
	for _, p := range parts {
		byKey[p.Key] = p // the last, as insertPartitions keeps
	}
	var params []river.InsertManyParams
	for _, r := range ins {
		if !running(r) {
			continue
		}
		var a PartitionArgs
		if err := json.Unmarshal(r.Job.EncodedArgs, &a); err != nil {
			return 0, fmt.Errorf("riverjob: the running job %d of a partition of connector %q: %w", r.Job.ID, name, err)
		}
		p := byKey[a.Key]
		params = append(params, river.InsertManyParams{
			Args:       RerunArgs{Connector: name, Stream: p.Stream, Key: p.Key, Parent: p.Parent},
			InsertOpts: j.insertOpts(),
		})
	}
	if len(params) == 0 {
		return 0, nil
	}
	res, err := client.InsertMany(ctx, params)
	if err != nil {
		return 0, fmt.Errorf("riverjob: insert %d reruns of partitions of connector %q: %w", len(params), name, err)
	}
	n := 0
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			n++
		}
	}
	return n, nil
}
