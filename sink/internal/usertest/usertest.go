// Package usertest provides the seed connector's USER records for the
// sinks' tests and benchmarks: the record type, its table, and a
// deterministic generator of records about 300 bytes of JSON each.
package usertest

import (
	"fmt"
	"math/rand/v2"
	"time"

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
