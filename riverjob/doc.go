// Package riverjob runs connectors' syncs as River jobs
// (github.com/riverqueue/river): one job per stream partition, on any
// number of worker processes and machines sharing one PostgreSQL database,
// or in one process on SQLite.
//
// A sync of a connector (see package connector) is a [PartitionArgs] job
// for each top-level stream and a [ListArgs] job for each child stream,
// which reads the parent's list and inserts a PartitionArgs job for each
// parent record as the list's pages arrive. A partition's job runs the
// partition with the connector's runner and sinks, from the partition's
// checkpoint, within the connector's limits.
//
//	jobs, err := riverjob.New[pgx.Tx](riverjob.Config{
//		Connectors: map[string]*connector.Connector{"shop": shop},
//	})
//	workers := river.NewWorkers()
//	err = jobs.AddWorkers(workers)
//	periodic, err := jobs.PeriodicJobs("shop", 5*time.Minute)
//	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
//		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}},
//		Workers:              workers,
//		PeriodicJobs:         periodic,
//		JobTimeout:           10 * time.Minute,
//		RescueStuckJobsAfter: 11 * time.Minute,
//	})
//	err = client.Start(ctx)
//	res, err := jobs.Enqueue(ctx, client, "shop")
//
// # Guarantees
//
// Jobs of one partition are unique while one is queued or running (River's
// unique jobs, by arguments, in every state but the final ones), so no two
// workers run one partition at once, and a sync inserted while the last
// one still runs, by hand or by a periodic job, skips the partitions that
// still run. The PostgreSQL sink's stream locks stand behind that. A list
// job that lists a parent whose partition's job runs leaves a [RerunArgs]
// job, which runs the partition again once that job has ended: the running
// job may have read the partition before the change that listed the
// parent.
//
// A partition's rows and checkpoint commit page by page, as in any run. A
// sink wrapped in [Completing] also marks the job completed in the
// transaction of the partition's last page (River's JobCompleteTx), so
// that the data and the job's state never disagree, whatever crashes.
//
// A worker killed mid-page loses the pages it had not committed. River's
// leader rescues its jobs once they have been running for longer than
// river.Config.RescueStuckJobsAfter (checked every 30 seconds), and another
// worker resumes each partition from its checkpoint: no record is lost
// or written twice. The job's timeout (river.Config.JobTimeout) must be
// finite for that, and RescueStuckJobsAfter no shorter. A job that runs
// out of its time after committing pages goes on at once from its
// checkpoint, without using up an attempt.
//
// A job whose run fails with a permanent error ([IsPermanent], or
// Config.Permanent), such as a 401 or a checkpoint written by other
// settings, is cancelled at once, with the error kept on the job: River
// can discard a job only once it has used up its attempts, and
// cancellation is its way of saying "do not retry this". Other errors are
// retried with River's backoff, once the runner's own retries of each
// page are spent, until the job's attempts run out and River discards it.
package riverjob
