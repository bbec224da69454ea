package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pagekit/pagekit/sink/internal/keypage"
)

// The keys of a stream's sync in progress (see paginate.KeyStore) are kept
// in the table <state table>_keys, one row a page: the records the sync
// had committed with the page, and the page's key hashes, 8 bytes each.
// SaveKeys holds a page's keys in memory until the stream's next checkpoint
// is saved, and writes them in its transaction.

// SaveKeys keeps the key hashes of a page of the stream's sync in progress,
// to be written with the stream's next checkpoint.
func (s *Sink[T]) SaveKeys(_ context.Context, stream string, items int64, keys []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	s.pending.Add(stream, items, keys)
	return nil
}

// LoadKeys takes the lock of stream and returns the key hashes of its sync
// saved with items of at most upTo, and deletes the others.
func (s *Sink[T]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return nil, err
	}
	if err := s.lock(ctx, stream); err != nil {
		return nil, err
	}
	// Pages still waiting belong to commits that did not complete.
	s.pending.Drop(stream)
	if _, err := s.conn.Exec(ctx, s.q.dropKeys, stream, upTo); err != nil {
		return nil, s.fail(fmt.Errorf("postgres: forget the keys of %q: %w", stream, err))
	}
	if upTo <= 0 {
		return nil, nil
	}
	rows, err := s.conn.Query(ctx, s.q.loadKeys, stream)
	if err != nil {
		return nil, s.fail(fmt.Errorf("postgres: load the keys of %q: %w", stream, err))
	}
	defer rows.Close()
	var out []uint64
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("postgres: load the keys of %q: %w", stream, err)
		}
		if out, err = keypage.Decode(out, b); err != nil {
			return nil, fmt.Errorf("postgres: the keys of %q are not valid: %w", stream, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(fmt.Errorf("postgres: load the keys of %q: %w", stream, err))
	}
	return out, nil
}

// queueKeys queues the pages of keys waiting for the checkpoint of stream,
// in the round trip that saves it.
func (s *Sink[T]) queueKeys(b *pgconn.Batch, stream string) {
	for _, p := range s.pending.Of(stream) {
		b.ExecPrepared(s.q.saveKeysName, [][]byte{[]byte(stream), strconv.AppendInt(nil, p.Items, 10), p.Keys}, []int16{0, 0, 1}, nil)
	}
}

// writeKeys writes the pages of keys waiting for the checkpoint of stream,
// in the transaction that saves it.
func (s *Sink[T]) writeKeys(ctx context.Context, stream string) error {
	for _, p := range s.pending.Of(stream) {
		if _, err := s.conn.Exec(ctx, s.q.saveKeys, stream, p.Items, p.Keys); err != nil {
			return s.fail(fmt.Errorf("postgres: save the keys of %q: %w", stream, err))
		}
	}
	return nil
}
