package riverjob

import (
	"encoding/json"

	"github.com/pagekit/pagekit/connector"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// PartitionArgs are the arguments of a job that syncs one partition of a
// connector's stream (see [connector.Partition]): a whole top-level
// stream, or the partition of one parent record of a child stream.
//
// Jobs of one partition are unique while one is queued or running: the
// unique key is Connector, Stream and Key, so that inserting the partition
// again while a job of it waits or runs inserts nothing, and no two
// workers ever sync one partition at once. Once the job has finished, for
// better or worse, the partition can be inserted again.
type PartitionArgs struct {
	// Connector is the name the connector has in [Config].Connectors.
	Connector string `json:"connector" river:"unique"`
	// Stream is the stream's name.
	Stream string `json:"stream" river:"unique"`
	// Key is the partition key of a child stream's partition, empty
	// for a top-level stream.
	Key string `json:"key,omitempty" river:"unique"`
	// Parent is what the partition of a child stream needs of its
	// parent record, as JSON: the part connector.ChildOf.Keep keeps (the
	// key and the fields the child's paginator reads), without its zero
	// members; the whole record when Keep is not set. It is not part of
	// the unique key: a partition is the same partition whatever version
	// of its parent it was listed with. River keeps it with the job, in
	// river_job.args, until its cleaner deletes the finished job (see
	// docs/scale-out.md).
	Parent json.RawMessage `json:"parent,omitempty"`
}

// KindPartition is the River job kind of [PartitionArgs].
const KindPartition = "pagekit_partition"

// Kind returns [KindPartition].
func (PartitionArgs) Kind() string { return KindPartition }

// InsertOpts makes jobs of a partition unique while queued or running.
func (PartitionArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{UniqueOpts: uniqueOpts} }

// Partition returns the connector partition the job syncs.
func (a PartitionArgs) Partition() connector.Partition {
	return connector.Partition{Stream: a.Stream, Key: a.Key, Parent: a.Parent}
}

// ListArgs are the arguments of a job that lists the partitions of a
// child stream, one per parent record, reading the parent's list from
// where the last list stopped, and inserts a [PartitionArgs] job for each
// as the list's pages arrive. Jobs of one list are unique while one is
// queued or running.
type ListArgs struct {
	// Connector is the name the connector has in [Config].Connectors.
	Connector string `json:"connector" river:"unique"`
	// Stream is the child stream's name.
	Stream string `json:"stream" river:"unique"`
}

// KindList is the River job kind of [ListArgs].
const KindList = "pagekit_list"

// Kind returns [KindList].
func (ListArgs) Kind() string { return KindList }

// InsertOpts makes jobs of a list unique while queued or running.
func (ListArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{UniqueOpts: uniqueOpts} }

// uniqueOpts make a job unique by its arguments while it is queued or
// running. River's default states include completed, which would keep a
// partition from syncing again until the cleaner deletes its last job
// (a day later); retryable stays in, or a duplicate could be inserted
// while a job waits for its retry.
var uniqueOpts = river.UniqueOpts{
	ByArgs: true,
	ByState: []rivertype.JobState{
		rivertype.JobStateAvailable,
		rivertype.JobStatePending,
		rivertype.JobStateRetryable,
		rivertype.JobStateRunning,
		rivertype.JobStateScheduled,
	},
}
