package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/pagekit/pagekit/sink/sqlite"
)

// TestOpenWhileAnotherCreates opens a database file that another
// connection is still creating: it holds the file's write lock in a
// rollback journal, before the switch to write-ahead logging, which
// SQLite refuses with SQLITE_BUSY at once instead of waiting for the busy
// timeout. Open must wait for the other, as it waits for any writer (a
// worker process's test opened the file a worker was creating, and
// failed with "database is locked").
func TestOpenWhileAnotherCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	creating(t, path, 500*time.Millisecond)
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("Open while another connection creates the file: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Errorf("the table the other connection created: %v", err)
	}
}

// TestOpenRetriesBusy opens a connection whose switch to write-ahead
// logging SQLite refuses with SQLITE_BUSY at once (no busy timeout, as in
// the deadlock of two connections switching a new file together) while
// another holds the file's write lock: Open's first connection tries again
// until the lock is gone, instead of failing with "database is locked".
func TestOpenRetriesBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	creating(t, path, 300*time.Millisecond)
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := sqlite.Ping(db); err != nil {
		t.Fatalf("the first connection while another holds the write lock: %v", err)
	}
}

// creating creates the database file at path in a connection of its own,
// in a transaction that holds the file's write lock for d, in the
// rollback journal a new file starts with.
func creating(t *testing.T, path string, d time.Duration) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	ctx := context.Background()
	conn, err := raw.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE; CREATE TABLE t (x)"); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(d, func() { conn.ExecContext(ctx, "COMMIT") })
}
