package duckdb

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Open opens the DuckDB database file at path, creating it when it does not
// exist; an empty path is an in-memory database. DuckDB lets one process at
// a time open a file for writing: when another holds it, Open fails with a
// *LockedError (errors.Is ErrLocked) that names that process. The system
// drops DuckDB's lock when the process ends, a kill -9 included.
//
// The database is opened at once, so that a file another process holds is
// reported here rather than by the first query.
//
// Open sets DuckDB's threads to 1. A sync writes a page (or a group of
// pages) a transaction, and for transactions that small DuckDB's parallel
// execution costs more than it gives: one thread commits pages of 50 and
// 500 rows twice as fast here (see docs/performance.md). Analytical queries
// on the same database want more: SET threads = N (a setting of the
// database, so the sink's next commits take it too), or open the file for
// them with the driver's own sql.Open("duckdb", path).
func Open(path string) (*sql.DB, error) {
	c, err := duckdb.NewConnector(path+"?threads=1", nil)
	if err != nil {
		return nil, openError(path, err)
	}
	db := sql.OpenDB(c)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, openError(path, err)
	}
	return db, nil
}

// heldBy finds the process DuckDB names in a lock error, "... (PID 123)".
var heldBy = regexp.MustCompile(`PID (\d+)`)

func openError(path string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "Could not set lock on file") {
		e := &LockedError{Path: path, PID: -1}
		if m := heldBy.FindStringSubmatch(msg); m != nil {
			e.PID, _ = strconv.Atoi(m[1])
		}
		return e
	}
	return fmt.Errorf("duckdb: open %s: %w", path, err)
}

// isConstraint reports whether DuckDB refused a row for a constraint of
// the table (a primary key, NOT NULL, CHECK, UNIQUE).
func isConstraint(err error) bool {
	var e *duckdb.Error
	if errors.As(err, &e) && e.Type == duckdb.ErrorTypeConstraint {
		return true
	}
	// The appender reports its errors as text.
	return err != nil && containsAny(err.Error(), "constraint failed", "constraint violation", "Constraint Error")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
