package sqlite

import (
	"database/sql"
	"fmt"
	"strings"
)

// Open opens the SQLite database file at path, creating it if needed, with
// the settings pagekit's sinks expect on every connection: write-ahead
// logging, synchronous=NORMAL, a 10 second busy timeout, foreign keys
// enforced, temporary storage (the statement journal of multi-row
// upserts) in memory, and transactions begun with BeginTx taking the write
// lock at once (BEGIN IMMEDIATE), so that a busy database makes them wait
// for the busy timeout rather than fail at their first write, as a job
// queue sharing the database needs. Close the returned database when done.
//
// The file must be a real file: each connection to ":memory:" would be a
// different, empty database.
func Open(path string) (*sql.DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: Open: %q is not a usable database file path", path)
	}
	dsn := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}
