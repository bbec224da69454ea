package paginate

import (
	"context"
	"sync"
)

// Checkpoint is the saved progress of one stream: where the next page
// starts and how far the incremental high-water mark has advanced.
//
// While a sync runs, Position is the start of the first page not yet
// committed. When a sync completes, Position is reset to the start and its
// Since set to HighWater, so that the next run is an incremental sync from
// the mark. A checkpoint is never saved ahead of data the sink has accepted.
type Checkpoint struct {
	// Stream names the stream this checkpoint belongs to.
	Stream string `json:"stream"`
	// Position is where the next page starts.
	Position Position `json:"position"`
	// HighWater is the largest mark (see Options.HighWater) of any record
	// committed so far, empty when there is none.
	HighWater string `json:"high_water,omitempty"`
	// Drifted records that the sync in progress saw drift (see [Drift]).
	// A sync that drifted does not advance Since when it completes: the
	// next sync reads again from where this one started, so that a record
	// shifted past a page boundary is not missed.
	Drifted bool `json:"drifted,omitempty"`
	// Identity describes the settings of the run that saved the
	// checkpoint, in the form of [Identity.String]; a run with other
	// settings does not resume from it.
	Identity string `json:"identity,omitempty"`
	// LastPage is the fingerprint of the last page committed (see
	// Page.Fingerprint), zero when the sync in progress committed none.
	// A resumed run that is served that page again, as servers that answer
	// past-the-end pages with their last page do, recognises it instead of
	// committing it as new data.
	LastPage uint64 `json:"last_page,omitempty,string"`
	// Items counts the records the sync in progress has committed, over
	// all its runs; zero once it completes. A [KeyStore] keeps the keys
	// of those records by it, and a resumed run checks that it loaded
	// that many.
	Items int64 `json:"items,omitempty"`
}

// A Store keeps one checkpoint per stream.
//
// Load returns found == false, and no error, for a stream that has no
// checkpoint yet. Save replaces the stream's checkpoint; it must be durable
// when it returns, because the runner moves on to the next page then.
type Store interface {
	Load(ctx context.Context, stream string) (cp Checkpoint, found bool, err error)
	Save(ctx context.Context, cp Checkpoint) error
}

// A RestartingStore is a [Store] whose checkpoints a platform keeps for
// people who have no Options.Restart to set (the protocol packages' sinks,
// whose state Airbyte, Singer targets and Fivetran hand back): when
// RestartsStreams reports true, a checkpoint saved by other settings
// starts its stream over as Options.Restart does, instead of failing
// every later sync.
type RestartingStore interface {
	Store
	RestartsStreams() bool
}

// MemoryStore is a [Store] and a [KeyStore] that keeps checkpoints, and the
// keys of syncs in progress, in memory, for tests and for runs that need no
// resume across processes. The zero value is ready to use, and it is safe
// for concurrent use.
type MemoryStore struct {
	mu   sync.Mutex
	cps  map[string]Checkpoint
	keys map[string][]keyPage
}

// Load returns the stream's checkpoint.
func (s *MemoryStore) Load(_ context.Context, stream string) (Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp, ok := s.cps[stream]
	return cp, ok, nil
}

// Save stores cp under cp.Stream.
func (s *MemoryStore) Save(_ context.Context, cp Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cps == nil {
		s.cps = make(map[string]Checkpoint)
	}
	s.cps[cp.Stream] = cp
	return nil
}
