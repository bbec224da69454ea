package mockapi

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// The dataset's updatedAt values spread over these three years, whatever
// its size; createdAt is up to two years earlier.
const (
	spanStart = 1640995200 // 2022-01-01T00:00:00Z
	spanEnd   = 1735689600 // 2025-01-01T00:00:00Z
	maxAge    = 2 * 365 * 24 * 60 * 60
)

// rec is one record in 40 bytes: its key fields. The text fields are
// derived from the generation number (the index in dataset.recs) and ver
// when the record is served.
type rec struct {
	id      [16]byte
	created int64 // Unix seconds
	updated int64 // Unix seconds
	ver     uint32
}

// dataset is the records and the orders the endpoints serve them in.
// Reading it needs the Server's read lock; mutating it, the write lock.
type dataset struct {
	seed  uint64
	clock func() time.Time

	recs      []rec   // by generation number; never reordered
	byUpdated []int32 // ascending (updated, id); mutations keep it sorted
	mut       *rand.Rand

	// With Config.PreEncode, enc holds every record's JSON and encAt the
	// place of record i's as offset<<16 | length. A changed record is
	// encoded again at the end of enc.
	enc   []byte
	encAt []uint64

	// Indexes built on first use, under idxMu (a reader holds only the
	// read lock), and dropped or extended by mutations.
	idxMu     sync.Mutex
	byCreated []int32           // ascending (created, id)
	byID      []int32           // ascending id
	filtered  map[int64][]int32 // byCreated restricted to updated >= since
}

func newDataset(cfg Config) *dataset {
	d := &dataset{
		seed:  cfg.Seed,
		clock: cfg.Clock,
		recs:  generate(cfg),
		mut:   rand.New(rand.NewPCG(cfg.Seed, saltMutate)),
	}
	// generate returns the records in (updated, id) order.
	d.byUpdated = make([]int32, len(d.recs))
	for i := range d.byUpdated {
		d.byUpdated[i] = int32(i)
	}
	if cfg.preEncode() {
		d.enc = make([]byte, 0, len(d.recs)*300+64<<10) // records average 285 bytes
		d.encAt = make([]uint64, 0, len(d.recs))
		for i := range d.recs {
			d.encode(int32(i))
		}
	}
	return d
}

// encode stores the JSON of record i in enc.
func (d *dataset) encode(i int32) {
	start := len(d.enc)
	p := newPerson(d.seed, i, d.recs[i].ver)
	d.enc = appendRecord(d.enc, &d.recs[i], &p)
	at := uint64(start)<<16 | uint64(len(d.enc)-start)
	if int(i) == len(d.encAt) {
		d.encAt = append(d.encAt, at)
	} else {
		d.encAt[i] = at
	}
}

// appendJSON appends the JSON of record i.
func (d *dataset) appendJSON(b []byte, i int32) []byte {
	if d.encAt != nil {
		at := d.encAt[i]
		off := at >> 16
		return append(b, d.enc[off:off+at&0xffff]...)
	}
	p := newPerson(d.seed, i, d.recs[i].ver)
	return appendRecord(b, &d.recs[i], &p)
}

// generate returns cfg's records in ascending (updated, id) order. It walks
// forward in time, so the order comes for free except inside a tie.
func generate(cfg Config) []rec {
	n := cfg.records()
	recs := make([]rec, n)
	rng := rand.New(rand.NewPCG(cfg.Seed, saltData))
	gap := max(1, (spanEnd-spanStart)/int64(n)) // mean seconds between timestamps
	groups := slices.Clone(cfg.TieGroups)
	slices.SortFunc(groups, func(a, b TieGroup) int { return a.At - b.At })
	tieRate := cfg.tieRate()

	t := spanStart + rng.Int64N(gap)
	for i := 0; i < n; {
		size := 1
		if len(groups) > 0 && groups[0].At == i {
			size = groups[0].Size
			groups = groups[1:]
		} else {
			limit := n - i
			if len(groups) > 0 {
				limit = groups[0].At - i
			}
			for size < limit && rng.Float64() < tieRate {
				size++
			}
		}
		group := recs[i : i+size]
		for j := range group {
			r := &group[j]
			r.updated = t
			r.id = newID(rng)
			r.created = t
			if rng.IntN(10) > 0 { // most records were updated after creation
				r.created -= 1 + rng.Int64N(maxAge)
			}
		}
		if size > 1 {
			slices.SortFunc(group, func(a, b rec) int { return bytes.Compare(a.id[:], b.id[:]) })
		}
		i += size
		t += 1 + rng.Int64N(2*gap-1)
	}
	return recs
}

// newID returns a random (version 4) UUID.
func newID(rng *rand.Rand) [16]byte {
	var id [16]byte
	a, b := rng.Uint64(), rng.Uint64()
	for i := range 8 {
		id[i] = byte(a >> (56 - 8*i))
		id[8+i] = byte(b >> (56 - 8*i))
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

func (d *dataset) len() int { return len(d.byUpdated) }

// cmpUpdated orders records by (updated, id).
func (d *dataset) cmpUpdated(i int32, updated int64, id *[16]byte) int {
	r := &d.recs[i]
	if c := cmp.Compare(r.updated, updated); c != 0 {
		return c
	}
	return bytes.Compare(r.id[:], id[:])
}

// updatedFrom returns the position in byUpdated of the first record
// updated at or after since.
func (d *dataset) updatedFrom(since int64) int {
	k, _ := slices.BinarySearchFunc(d.byUpdated, since, func(i int32, t int64) int {
		if d.recs[i].updated < t {
			return -1
		}
		return 1
	})
	return k
}

// updatedAfter returns the position in byUpdated of the first record
// updated strictly after t.
func (d *dataset) updatedAfter(t int64) int {
	if t == math.MaxInt64 {
		return d.len()
	}
	return d.updatedFrom(t + 1)
}

// afterKey returns the position in byUpdated of the first record whose
// (updated, id) is greater than (t, id).
func (d *dataset) afterKey(t int64, id [16]byte) int {
	k, found := slices.BinarySearchFunc(d.byUpdated, 0, func(i int32, _ int) int {
		return d.cmpUpdated(i, t, &id)
	})
	if found {
		k++
	}
	return k
}

// minUpdated returns the earliest updatedAt, or MaxInt64 if there are no
// records.
func (d *dataset) minUpdated() int64 {
	if d.len() == 0 {
		return math.MaxInt64
	}
	return d.recs[d.byUpdated[0]].updated
}

// maxUpdated returns the latest updatedAt, or MinInt64 if there are no
// records.
func (d *dataset) maxUpdated() int64 {
	if d.len() == 0 {
		return math.MinInt64
	}
	return d.recs[d.byUpdated[d.len()-1]].updated
}

// cmpCreated orders records by (created, id).
func (d *dataset) cmpCreated(a, b int32) int {
	ra, rb := &d.recs[a], &d.recs[b]
	if c := cmp.Compare(ra.created, rb.created); c != 0 {
		return c
	}
	return bytes.Compare(ra.id[:], rb.id[:])
}

// createdOrder returns the records in (created, id) order.
func (d *dataset) createdOrder() []int32 {
	d.idxMu.Lock()
	defer d.idxMu.Unlock()
	return d.createdOrderLocked()
}

func (d *dataset) createdOrderLocked() []int32 {
	if d.byCreated == nil {
		idx := slices.Clone(d.byUpdated)
		slices.SortFunc(idx, d.cmpCreated)
		d.byCreated = idx
	}
	return d.byCreated
}

// createdSince returns the records updated at or after since, in
// (created, id) order. The answer for a since is kept until the next
// mutation, so that walking the pages of one query filters once.
func (d *dataset) createdSince(since int64) []int32 {
	d.idxMu.Lock()
	defer d.idxMu.Unlock()
	all := d.createdOrderLocked()
	if since <= d.minUpdated() {
		return all
	}
	if idx, ok := d.filtered[since]; ok {
		return idx
	}
	var idx []int32
	for _, i := range all {
		if d.recs[i].updated >= since {
			idx = append(idx, i)
		}
	}
	if len(d.filtered) >= 16 {
		clear(d.filtered)
	}
	if d.filtered == nil {
		d.filtered = make(map[int64][]int32)
	}
	d.filtered[since] = idx
	return idx
}

// ordered returns the records updated at or after since, in ascending
// order of byCreated or updatedAt.
func (d *dataset) ordered(byCreated bool, since int64) []int32 {
	if byCreated {
		return d.createdSince(since)
	}
	return d.byUpdated[d.updatedFrom(since):]
}

// find returns the generation number of the record with this id.
func (d *dataset) find(id [16]byte) (int32, bool) {
	d.idxMu.Lock()
	if d.byID == nil {
		idx := slices.Clone(d.byUpdated)
		slices.SortFunc(idx, func(a, b int32) int {
			return bytes.Compare(d.recs[a].id[:], d.recs[b].id[:])
		})
		d.byID = idx
	}
	byID := d.byID
	d.idxMu.Unlock()
	k, ok := slices.BinarySearchFunc(byID, id, func(i int32, id [16]byte) int {
		return bytes.Compare(d.recs[i].id[:], id[:])
	})
	if !ok {
		return 0, false
	}
	return byID[k], true
}

// createdAfter returns the position in the (created, id) order just after
// record i.
func (d *dataset) createdAfter(i int32) int {
	order := d.createdOrder()
	k, found := slices.BinarySearchFunc(order, i, d.cmpCreated)
	if found {
		k++
	}
	return k
}

// user returns record i as a User.
func (d *dataset) user(i int32) User {
	r := &d.recs[i]
	p := newPerson(d.seed, i, r.ver)
	// Each field appends to nil, not to a shared scratch buffer: go1.26.8
	// miscompiles string(append(buf[:0], ...)) for several fields of one
	// composite literal, making the strings alias the buffer (see
	// TestRecordKeyOrder).
	return User{
		ID:        string(appendUUID(nil, r.id)),
		Name:      string(p.appendName(nil)),
		Email:     string(p.appendEmail(nil)),
		Address:   string(p.appendAddress(nil, "\n")),
		Company:   string(p.appendCompany(nil)),
		Job:       string(p.appendJob(nil)),
		CreatedAt: time.Unix(r.created, 0).UTC(),
		UpdatedAt: time.Unix(r.updated, 0).UTC(),
	}
}

// users returns the records at idx as Users.
func (d *dataset) users(idx []int32) []User {
	us := make([]User, len(idx))
	for k, i := range idx {
		us[k] = d.user(i)
	}
	return us
}

// mutate updates n existing records and inserts m new ones, all at one new
// updatedAt later than any other, and returns their generation numbers in
// (updated, id) order, and how many of them were updates. It costs O(len)
// for the updates, which move records to the end of byUpdated.
func (d *dataset) mutate(n, m int) (batch []int32, updated int) {
	n = min(n, len(d.recs))
	m = min(m, MaxRecords-len(d.recs))
	if n <= 0 && m <= 0 {
		return nil, 0
	}
	t := max(d.maxUpdated(), spanStart) + 1
	if d.clock != nil {
		t = max(t, d.clock().Unix())
	}

	changed := d.sample(max(n, 0))
	if len(changed) > 0 {
		// Remove the updated records from byUpdated, found by their old
		// keys, before they get the new one.
		pos := make([]int, len(changed))
		for j, i := range changed {
			r := &d.recs[i]
			pos[j] = d.afterKey(r.updated, r.id) - 1
		}
		slices.Sort(pos)
		w := pos[0]
		for j, p := range pos {
			end := d.len()
			if j+1 < len(pos) {
				end = pos[j+1]
			}
			w += copy(d.byUpdated[w:], d.byUpdated[p+1:end])
		}
		d.byUpdated = d.byUpdated[:w]
		for _, i := range changed {
			d.recs[i].updated = t
			d.recs[i].ver++
		}
	}

	var inserted []int32
	for range max(m, 0) {
		i := int32(len(d.recs))
		d.recs = append(d.recs, rec{id: newID(d.mut), created: t, updated: t})
		inserted = append(inserted, i)
	}

	if d.encAt != nil {
		for _, i := range changed {
			d.encode(i)
		}
		for _, i := range inserted {
			d.encode(i)
		}
	}

	byID := func(a, b int32) int { return bytes.Compare(d.recs[a].id[:], d.recs[b].id[:]) }
	slices.SortFunc(inserted, byID)
	batch = slices.Concat(changed, inserted)
	slices.SortFunc(batch, byID)
	d.byUpdated = append(d.byUpdated, batch...)

	d.idxMu.Lock()
	if d.byCreated != nil {
		// New records are the latest created; updates keep their place.
		d.byCreated = append(d.byCreated, inserted...)
	}
	if len(inserted) > 0 {
		d.byID = nil
	}
	clear(d.filtered)
	d.idxMu.Unlock()
	return batch, len(changed)
}

// sample returns n distinct generation numbers, by Floyd's algorithm.
func (d *dataset) sample(n int) []int32 {
	total := len(d.recs)
	seen := make(map[int32]bool, n)
	out := make([]int32, 0, n)
	for j := total - n; j < total; j++ {
		i := int32(d.mut.IntN(j + 1))
		if seen[i] {
			i = int32(j)
		}
		seen[i] = true
		out = append(out, i)
	}
	return out
}
