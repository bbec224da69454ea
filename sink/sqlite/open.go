package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Open opens the SQLite database file at path, creating it if needed, with
// the settings pagekit's sinks expect on every connection: write-ahead
// logging, synchronous=NORMAL, a 10 second busy timeout, foreign keys
// enforced, temporary storage (the statement journal of multi-row
// upserts) in memory, and transactions begun with BeginTx taking the write
// lock at once (BEGIN IMMEDIATE), so that a busy database makes them wait
// for the busy timeout rather than fail at their first write, as a job
// queue sharing the database needs. A file that other processes are
// creating at the same moment is waited for as a busy one is. Close the
// returned database when done.
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
	if err := ping(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// busyWait is how long Open tries again to open a database that is busy
// being created: the busy timeout's.
const busyWait = 10 * time.Second

// ping opens db's first connection. Two connections that switch a new file
// to write-ahead logging at once each hold a read lock and want the write
// lock; SQLite refuses one with SQLITE_BUSY at once, without waiting for
// the busy timeout, since waiting could not end, and the one refused must
// try again once its lock is gone, as worker processes starting together
// on one file do.
func ping(db *sql.DB) error {
	deadline := time.Now().Add(busyWait)
	for {
		err := db.Ping()
		var se interface{ Code() int }
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqliteBusy is SQLite's primary result code SQLITE_BUSY.
const sqliteBusy = 5
