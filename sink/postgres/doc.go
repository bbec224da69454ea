// Package postgres is pagekit's sink for PostgreSQL, through
// github.com/jackc/pgx/v5: it upserts records into a table and keeps each
// stream's checkpoint in a state table of the same database, committing a
// page's rows and its checkpoint in one transaction. It is the sink for
// syncs that outgrow one machine: several workers, on any machines, share
// one database, and a lock per stream keeps any two of them from running
// the same stream at once.
//
// A [Sink] creates its table from a [schema.Mapping]. Column types map as
// follows:
//
//	STRING        text
//	INT           integer
//	LONG          bigint
//	DOUBLE        double precision
//	BOOLEAN       boolean
//	DECIMAL       numeric
//	NAIVE_DATE    date
//	UTC_DATETIME  timestamptz (microseconds)
//	JSON          jsonb
//	BINARY        bytea
//
// Names are always quoted, so they keep their case ("updatedAt"), and a
// name longer than PostgreSQL's 63 bytes is an error rather than silently
// cut.
//
// # Writing a page
//
// A page is one transaction. A page whose upserts are shorter than a few
// thousand rows goes to the server in a single round trip: BEGIN, one
// prepared INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE per run
// of upserts, whose parameters are binary arrays of the column values, the
// deletes, the checkpoint row, and COMMIT, pipelined. A larger page is
// copied (COPY ... FROM STDIN BINARY) into a temporary table and moved into
// the table with INSERT ... SELECT ... ON CONFLICT DO UPDATE. Within a page
// the last record of a key wins, as if the records were applied one by
// one.
//
// # Workers and stream locks
//
// Each Sink holds one connection for its life. Before it reads or writes a
// stream's checkpoint (Load, Save, Commit) it takes the stream's
// session-level advisory lock on that connection, keyed by a hash of the
// state table and the stream name, and keeps it until Unlock or Close. A
// second worker that asks for the same stream gets ErrLocked at once (a
// *LockedError naming the backend that holds it), or waits with
// Config.Wait. Because the lock and the commits share one session, a worker
// whose connection dies cannot commit any more: PostgreSQL rolls back its
// open transaction and releases its lock in the same moment, and another
// worker resumes from the last committed checkpoint.
package postgres
