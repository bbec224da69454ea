package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pagekit/pagekit/sink/internal/keypage"
)

// The keys of a stream's sync in progress (see paginate.KeyStore) are kept
// in the table <state table>_keys, one row a page: the records the sync
// had committed with the page, and the page's key hashes, 8 bytes each.
// SaveKeys holds a page's keys in memory until the stream's next checkpoint
// is saved, and writes them in its transaction.

// keysTable is the name of the table of keys beside the state table.
func keysTable(state string) string { return state + "_keys" }

func createKeys(ctx context.Context, conn *sql.Conn, name string) error {
	q := "CREATE TABLE IF NOT EXISTS " + ident(name) + ` (
	stream TEXT NOT NULL,
	items  INTEGER NOT NULL,
	keys   BLOB NOT NULL,
	PRIMARY KEY (stream, items)
) STRICT`
	if _, err := conn.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create keys table %q: %w", name, err)
	}
	return nil
}

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
	if _, err := s.dropKeys.ExecContext(ctx, stream, upTo); err != nil {
		return nil, fmt.Errorf("sqlite: forget the keys of %q: %w", stream, err)
	}
	if upTo <= 0 {
		return nil, nil
	}
	rows, err := s.loadKeys.QueryContext(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load the keys of %q: %w", stream, err)
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("sqlite: load the keys of %q: %w", stream, err)
		}
		if out, err = keypage.Decode(out, b); err != nil {
			return nil, fmt.Errorf("sqlite: the keys of %q are not valid: %w", stream, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load the keys of %q: %w", stream, err)
	}
	return out, nil
}

// writeKeys writes the pages of keys waiting for the checkpoint of stream,
// in the transaction that saves it.
func (s *Sink[T]) writeKeys(ctx context.Context, stream string) error {
	for _, p := range s.pending.Of(stream) {
		if _, err := s.saveKeys.ExecContext(ctx, stream, p.Items, p.Keys); err != nil {
			return fmt.Errorf("sqlite: save the keys of %q: %w", stream, err)
		}
	}
	return nil
}
