// Package duckdb is pagekit's DuckDB sink: it upserts records into a table
// of a DuckDB database file and keeps each stream's checkpoint in the same
// database, committing a page's rows and its checkpoint in one transaction,
// so that analysts can open the result with DuckDB directly (Fivetran's
// connector tester writes the same kind of file, warehouse.db).
//
// DuckDB is C++ and its Go driver, github.com/duckdb/duckdb-go/v2, needs
// cgo: this package is a Go module of its own,
// github.com/pagekit/pagekit/sink/duckdb, so that the rest of pagekit
// builds without cgo and without DuckDB. The driver links DuckDB's
// prebuilt static library for the platform (about 130 MB for
// linux-amd64): building a program with this package costs a link of that
// library, seconds, not a compile of DuckDB. In the repository its go.mod
// replaces github.com/pagekit/pagekit with the checkout (../..), so that
// it builds and tests against the code beside it.
//
// A [Sink] creates its table from a [schema.Mapping]. Column types map as
// follows:
//
//	STRING        VARCHAR
//	INT           INTEGER
//	LONG          BIGINT
//	DOUBLE        DOUBLE
//	BOOLEAN       BOOLEAN
//	DECIMAL       DECIMAL(38, Config.DecimalScale), 9 by default
//	NAIVE_DATE    DATE
//	UTC_DATETIME  TIMESTAMPTZ (microseconds)
//	JSON          JSON
//	BINARY        BLOB
//
// A DECIMAL that DECIMAL(38, scale) cannot hold exactly is refused with a
// *schema.RecordError instead of being rounded.
//
// Each page is one transaction (BEGIN ... COMMIT) holding the page's
// records and, for [Sink.Commit], the checkpoint row. Records go through
// DuckDB's Appender: the rows of a run of upserts are appended to a
// temporary table and written by one INSERT OR REPLACE ... SELECT, deletes
// by one DELETE ... USING, soft deletes by one UPDATE ... FROM. That is 4
// to 5 times as fast as multi-row INSERT ... ON CONFLICT DO UPDATE
// statements with bound parameters (see docs/performance.md), and INSERT
// OR REPLACE was faster than the same upsert spelled ON CONFLICT DO UPDATE
// SET with every column. Within a
// run, the last record of a key wins, as in the other sinks. A row that a
// constraint of the table refuses rolls the whole page back, as any error
// does; the sink then writes the page again a row at a time in a
// transaction it rolls back, to name the record at fault in a
// *schema.RecordError.
//
// DuckDB writes a commit to its write-ahead log and syncs it before COMMIT
// returns, so a committed page survives a crash, a kill -9 or a power
// loss. DuckDB lets one process at a time open a database file: a second
// process's [Open] fails with a *LockedError. Within a process, each
// stream has one writer at a time (see [Sink.Lock]).
package duckdb
