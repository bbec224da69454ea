// Package sqlite is pagekit's embedded sink: it upserts records into a
// table of an SQLite database file and keeps each stream's checkpoint in
// the same database, committing a page's rows and its checkpoint in one
// transaction. It uses modernc.org/sqlite, which is pure Go: no cgo.
//
// A [Sink] creates its table from a [schema.Mapping] as a STRICT table, so
// every value keeps its storage class. Column types map as follows:
//
//	STRING        TEXT
//	INT, LONG     INTEGER
//	DOUBLE        REAL
//	BOOLEAN       INTEGER, 0 or 1
//	DECIMAL       TEXT, the exact decimal text
//	NAIVE_DATE    TEXT, YYYY-MM-DD
//	UTC_DATETIME  TEXT, YYYY-MM-DDTHH:MM:SS.ffffffZ (see DatetimeLayout)
//	JSON          TEXT, the JSON document (SQLite's JSON functions read it)
//	BINARY        BLOB
//
// UTC_DATETIME text is fixed-width and in UTC, so it sorts in time order
// and compares correctly with <, >, MIN and MAX, and date(), julianday() and
// the other date functions accept it. DECIMAL is text because SQLite has no
// exact decimal type; compare it numerically with CAST only when doubles
// are precise enough.
//
// Each page is one transaction (BEGIN IMMEDIATE ... COMMIT) holding
// multi-row INSERT ... ON CONFLICT DO UPDATE statements from prepared
// statements and, for [Sink.Commit], the checkpoint row. The database runs
// in WAL mode; see [Config].Durable for the synchronous setting.
package sqlite
