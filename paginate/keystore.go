package paginate

import (
	"context"
	"slices"
)

// A KeyStore is a [Store] that also keeps the keys of the records that the
// sync in progress of each stream has committed, so that drift detection
// (Options.Checks.TrackKeys) spans every run of a sync, not only the last one.
//
// A sync by position that stops (a crash, a cancellation, a limit, an
// error) and resumes later can skip a record the source shifted across a
// page boundary before or after the stop, and the record whose move caused
// the shift then comes again in the resumed run. With the keys the earlier
// runs committed, the resumed run recognises it and reports the drift, so
// that the next sync reads again from where this one started. Without
// them it cannot, and Run counts every resumed run of a sync with
// TrackKeys as drifted (DriftResume): nothing is lost, but the next sync
// reads again what this one read.
//
// Keys are 64-bit hashes, the same in every process. [MemoryStore] and
// [MemorySink] implement KeyStore, and so do the sinks of package sink
// that keep checkpoints (sink/jsonl's File and FileStore among them).
type KeyStore interface {
	Store
	// SaveKeys keeps keys, the key hashes of the records of one page that
	// the stream's sync is about to commit; items is the number of
	// records the sync will have committed with that page (the
	// Checkpoint.Items of the page's checkpoint). Run calls it before it
	// commits the page. An implementation may write the keys later, with
	// the next checkpoint it saves for the stream (in the same
	// transaction, say), but no later: the keys of a page must be durable
	// once its checkpoint is.
	SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error
	// LoadKeys returns every key saved for the stream's sync with items of
	// at most upTo, in any order, and forgets the others, which belong to
	// pages whose commit did not complete. Run calls it when a run starts,
	// with the loaded checkpoint's Items (zero for a sync that starts, which
	// forgets every key), and with zero once a sync completes.
	LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error)
}

// keyPage is the keys of one page, as a KeyStore keeps them.
type keyPage struct {
	items int64
	keys  []uint64
}

// SaveKeys keeps the keys of a page of the stream's sync.
func (s *MemoryStore) SaveKeys(_ context.Context, stream string, items int64, keys []uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = make(map[string][]keyPage)
	}
	s.keys[stream] = append(s.keys[stream], keyPage{items: items, keys: slices.Clone(keys)})
	return nil
}

// LoadKeys returns the keys of the stream's sync saved with items of at
// most upTo, and forgets the others.
func (s *MemoryStore) LoadKeys(_ context.Context, stream string, upTo int64) ([]uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pages := slices.DeleteFunc(s.keys[stream], func(p keyPage) bool { return p.items > upTo })
	if len(pages) == 0 {
		delete(s.keys, stream)
		return nil, nil
	}
	s.keys[stream] = pages
	var out []uint64
	for _, p := range pages {
		out = append(out, p.keys...)
	}
	return out, nil
}

// SaveKeys keeps the keys of a page of the stream's sync.
func (s *MemorySink[T]) SaveKeys(ctx context.Context, stream string, items int64, keys []uint64) error {
	return s.store.SaveKeys(ctx, stream, items, keys)
}

// LoadKeys returns the keys of the stream's sync saved with items of at
// most upTo, and forgets the others.
func (s *MemorySink[T]) LoadKeys(ctx context.Context, stream string, upTo int64) ([]uint64, error) {
	return s.store.LoadKeys(ctx, stream, upTo)
}

// A Keyer knows the identity of the records it is given, such as a sink
// that writes a table with a primary key. When Options.Key is nil, [Run]
// takes the sink's Key for it, for drift detection and page
// fingerprints. Key must return the same text for the same record in
// every process, and different text for different records.
type Keyer[T any] interface {
	Key(item T) string
}
