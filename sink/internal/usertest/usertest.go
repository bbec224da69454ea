// Package usertest provides the seed connector's USER records for the
// sinks' tests and benchmarks: the record type, its table, and a
// deterministic generator of records about 300 bytes of JSON each.
package usertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
)

// User is the seed's USER record as a connector decodes it from the mock
// API.
type User struct {
	ID        string    `json:"id" pagekit:",pk"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Address   string    `json:"address"`
	Company   string    `json:"company"`
	Job       string    `json:"job"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedAt time.Time `json:"createdAt"`
}

// Mapping returns the mapping of User to a table named table.
func Mapping(table string) *schema.Mapping[User] {
	return schema.Must(schema.Derive[User](table))
}

var (
	first   = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus"}
	last    = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth"}
	streets = []string{"Maple Street", "Oak Avenue", "Pine Road", "Cedar Lane", "Elm Boulevard", "Birch Way"}
	cities  = []string{"Springfield, IL 62704", "Portland, OR 97201", "Austin, TX 73301", "Madison, WI 53703"}
	firms   = []string{"Acme Corporation", "Globex and Sons", "Initech Limited", "Umbrella Holdings", "Hooli Incorporated"}
	jobs    = []string{"Senior software engineer", "Chief financial officer", "Database administrator", "Product designer"}
)

// Base is the updatedAt of the first generated record; each next record is
// one second later.
var Base = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Generate returns n users, the same for the same seed, with ids in
// generation order (each id sorts after the one before) and ascending
// updatedAt.
func Generate(n int, seed uint64) []User {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	users := make([]User, n)
	for i := range users {
		f, l := first[r.IntN(len(first))], last[r.IntN(len(last))]
		users[i] = User{
			ID:        fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", i, r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()>>16),
			Name:      f + " " + l,
			Email:     fmt.Sprintf("%s.%s%d@example.com", f, l, r.IntN(1000)),
			Address:   fmt.Sprintf("%d %s, Suite %d\n%s", 1+r.IntN(9999), streets[r.IntN(len(streets))], 100+r.IntN(900), cities[r.IntN(len(cities))]),
			Company:   firms[r.IntN(len(firms))],
			Job:       jobs[r.IntN(len(jobs))],
			UpdatedAt: Base.Add(time.Duration(i) * time.Second),
			CreatedAt: Base.Add(-time.Duration(r.IntN(1e6)) * time.Second),
		}
	}
	return users
}

// RandomIDs gives users random ids, the same for the same seed, as an API
// whose keys are UUIDs does: pages then insert keys all over the table's
// key order instead of at its end.
func RandomIDs(users []User, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc909))
	for i := range users {
		users[i].ID = fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()>>16)
	}
}

// KeySink is a sink that commits pages with their checkpoints and keeps
// the keys of a sync in progress.
type KeySink interface {
	paginate.Committer[User]
	paginate.KeyStore
}

// CheckKeyStore checks the paginate.KeyStore of a sink: the keys of pages
// whose checkpoint was committed (by Commit or Save) come back, in any
// order, from the sink as open returns it again, as a new process would
// see it; the keys of a page whose checkpoint was not saved do not; a load
// up to zero forgets the stream's keys and no other's.
func CheckKeyStore(t *testing.T, open func() KeySink) {
	t.Helper()
	ctx := context.Background()
	s := open()
	users := Generate(6, 7)
	step := func(stream string, items int64, keys []uint64, commit []User) {
		t.Helper()
		if err := s.SaveKeys(ctx, stream, items, keys); err != nil {
			t.Fatalf("SaveKeys: %v", err)
		}
		cp := paginate.Checkpoint{Stream: stream, Position: paginate.Position{Page: items}, Items: items}
		var err error
		switch {
		case commit == nil:
			return // a crash before the commit
		case len(commit) == 0:
			err = s.Save(ctx, cp)
		default:
			err = s.Commit(ctx, commit, cp)
		}
		if err != nil {
			t.Fatalf("commit: %v", err)
		}
	}
	load := func(stream string, upTo int64, want []uint64) {
		t.Helper()
		got, err := s.LoadKeys(ctx, stream, upTo)
		if err != nil {
			t.Fatalf("LoadKeys(%q, %d): %v", stream, upTo, err)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("LoadKeys(%q, %d) = %v, want %v", stream, upTo, got, want)
		}
	}
	step("u", 2, []uint64{1, 2}, users[:2])
	step("u", 4, []uint64{3, 1 << 63}, []User{})
	step("v", 1, []uint64{9}, users[2:3])
	step("u", 6, []uint64{5, 6}, nil)
	s = open()
	load("u", 4, []uint64{1, 2, 3, 1 << 63})
	// Keys saved ahead of a checkpoint that another run saves later.
	step("u", 6, []uint64{7, 8}, nil)
	load("u", 4, []uint64{1, 2, 3, 1 << 63})
	step("u", 6, []uint64{10, 11}, users[3:])
	load("u", 6, []uint64{1, 2, 3, 10, 11, 1 << 63})
	load("u", 2, []uint64{1, 2})
	load("u", 0, nil)
	load("u", 100, nil)
	load("v", 1, []uint64{9})
}
