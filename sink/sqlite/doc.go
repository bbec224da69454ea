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
// multi-row INSERT OR ROLLBACK ... ON CONFLICT DO UPDATE statements from
// prepared statements and, for [Sink.Commit], the checkpoint row. A row
// that a constraint of the table refuses rolls the whole page back, as any
// error does; OR ROLLBACK says so to SQLite, which then keeps no statement
// journal (a copy of each page a statement changes, so that the statement
// alone can be undone): about 8% faster. The sink then writes the page again
// in a transaction it rolls back, to name the record at fault in a
// *schema.RecordError. The database runs in WAL mode; see [Config].Durable
// for the synchronous setting.
package sqlite
