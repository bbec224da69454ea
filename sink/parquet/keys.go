package parquet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/pagekit/pagekit/sink/internal/keypage"
)

// The keys of a stream's sync in progress (see paginate.KeyStore) are kept
// in files of their own beside the table's, _keys-<stream hash>-<items>.bin:
// SaveKeys holds a page's keys in memory until the stream's next
// checkpoint, and the commit that saves it writes the pages waiting as one
// file, synced before the manifest. A keys file of a commit whose manifest
// was not written holds pages past the checkpoint, which LoadKeys forgets.

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
// at most upTo, and removes the others.
func (s *Sink[T]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	s.pending.Drop(stream)
	names, err := s.st.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("parquet: list the keys of %q: %w", stream, err)
	}
	prefix := keysPrefix(stream)
	var out []uint64
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		b, err := s.st.Read(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("parquet: load the keys of %q: %w", stream, err)
		}
		owner, pages, err := decodeKeys(b)
		if err != nil {
			return nil, fmt.Errorf("parquet: the keys of %q in %s are not valid: %w", stream, n, err)
		}
		if owner != stream {
			continue // another stream's, with the same hash
		}
		keep := pages[:0]
		for _, p := range pages {
			if p.Items <= upTo {
				keep = append(keep, p)
			}
		}
		if len(keep) < len(pages) {
			// Pages past the checkpoint: a commit that did not
			// complete, or a sync that starts again.
			if err := s.st.Remove(ctx, n); err != nil {
				return nil, fmt.Errorf("parquet: forget the keys of %q: %w", stream, err)
			}
			if len(keep) > 0 {
				if err := s.writeKeys(ctx, stream, keep); err != nil {
					return nil, err
				}
			}
		}
		for _, p := range keep {
			if out, err = keypage.Decode(out, p.Keys); err != nil {
				return nil, fmt.Errorf("parquet: the keys of %q in %s are not valid: %w", stream, n, err)
			}
		}
	}
	return out, nil
}

func keysPrefix(stream string) string {
	h := fnv.New64a()
	h.Write([]byte(stream))
	return fmt.Sprintf("_keys-%016x-", h.Sum64())
}

// writeKeys writes pages of keys of stream as one file, named after the
// last page's items.
func (s *Sink[T]) writeKeys(ctx context.Context, stream string, pages []keypage.Page) error {
	if len(pages) == 0 {
		return nil
	}
	name := keysPrefix(stream) + strconv.FormatInt(pages[len(pages)-1].Items, 10) + ".bin"
	w, err := s.st.Create(ctx, name)
	if err != nil {
		return fmt.Errorf("parquet: save the keys of %q: %w", stream, err)
	}
	_, err = w.Write(encodeKeys(stream, pages))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("parquet: save the keys of %q: %w", stream, err)
	}
	return nil
}

// encodeKeys returns the stream's name and its pages, each its items and
// its keys, length-prefixed.
func encodeKeys(stream string, pages []keypage.Page) []byte {
	b := binary.AppendUvarint(nil, uint64(len(stream)))
	b = append(b, stream...)
	for _, p := range pages {
		b = binary.AppendVarint(b, p.Items)
		b = binary.AppendUvarint(b, uint64(len(p.Keys)))
		b = append(b, p.Keys...)
	}
	return b
}

var errShort = errors.New("truncated")

func decodeKeys(b []byte) (string, []keypage.Page, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, errShort
	}
	stream, b := string(b[k:k+int(n)]), b[k+int(n):]
	var pages []keypage.Page
	for len(b) > 0 {
		items, k := binary.Varint(b)
		if k <= 0 {
			return "", nil, errShort
		}
		b = b[k:]
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return "", nil, errShort
		}
		pages = append(pages, keypage.Page{Items: items, Keys: b[k : k+int(n)]})
		b = b[k+int(n):]
	}
	return stream, pages, nil
}
