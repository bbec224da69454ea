package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pagekit/pagekit/sink/internal/keypage"
)

// The keys of a stream's sync in progress (see paginate.KeyStore) are kept
// in the table <state table>_keys, one row a page: the records the sync
// had committed with the page, and the page's key hashes, 8 bytes each, as
// in the SQLite sink. SaveKeys holds a page's keys in memory until the
// stream's next checkpoint is saved, and writes them in its transaction.

func createKeys(ctx context.Context, conn *sql.Conn, name string) error {
	q := "CREATE TABLE IF NOT EXISTS " + ident(name) + ` (
	stream VARCHAR NOT NULL,
	items  BIGINT NOT NULL,
	keys   BLOB NOT NULL,
	PRIMARY KEY (stream, items)
)`
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create keys table %q: %w", name, err)
	}
	return nil
}

// Key returns the primary key of item as text (see schema.Mapping.KeyOf),
// which paginate.Run takes for Options.Key when that is nil.
func (s *Sink[T]) Key(item T) string { return s.b.Mapping.KeyOf(item) }

// SaveKeys keeps the key hashes of a page of the stream's sync in progress,
// to be written with the stream's next checkpoint.
func (s *Sink[T]) SaveKeys(_ context.Context, stream string, items int64, keys []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.pending.Add(stream, items, keys)
	return nil
}

// LoadKeys returns the key hashes of the stream's sync saved with items of
// at most upTo, and deletes the others.
func (s *Sink[T]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := s.locks.lock(ctx, stream); err != nil {
		return nil, err
	}
	// Pages still waiting belong to commits that did not complete.
	s.pending.Drop(stream)
	if _, err := s.conn.ExecContext(ctx, "DELETE FROM "+ident(s.keysTable)+" WHERE stream = ? AND items > ?", stream, upTo); err != nil {
		return nil, fmt.Errorf("duckdb: forget the keys of %q: %w", stream, err)
	}
	if upTo <= 0 {
		return nil, nil
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT keys FROM "+ident(s.keysTable)+" WHERE stream = ?", stream)
	if err != nil {
		return nil, fmt.Errorf("duckdb: load the keys of %q: %w", stream, err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("duckdb: load the keys of %q: %w", stream, err)
		}
		if out, err = keypage.Decode(out, b); err != nil {
			return nil, fmt.Errorf("duckdb: the keys of %q are not valid: %w", stream, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: load the keys of %q: %w", stream, err)
	}
	return out, nil
}

// writeKeys writes the pages of keys waiting for the checkpoint of stream,
// in the transaction that saves it.
func (s *Sink[T]) writeKeys(ctx context.Context, stream string) error {
	for _, p := range s.pending.Of(stream) {
		if _, err := s.conn.ExecContext(ctx, "INSERT OR REPLACE INTO "+ident(s.keysTable)+" (stream, items, keys) VALUES (?, ?, ?)", stream, p.Items, p.Keys); err != nil {
			return fmt.Errorf("duckdb: save the keys of %q: %w", stream, err)
		}
	}
	return nil
}
