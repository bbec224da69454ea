package spec_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/dynamic"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/spec"
)

// sqliteTables is a spec.Destination: it opens each table of a spec in
// one SQLite database.
type sqliteTables struct{ db *sql.DB }

func (d sqliteTables) Open(ctx context.Context, m *schema.Mapping[spec.Record]) (dynamic.Sink, error) {
	return sqlite.New(ctx, d.db, m, sqlite.Config[spec.Record]{})
}

const usersSpec = `
streams:
  - name: users
    table: {primary_key: [id]}
    request:
      url: ${API}/pagination/page_number
      query: {order_by: updatedAt}
    paging: {strategy: page_number, size: 50, size_param: per_page}
    response: {items_path: data, total_pages_path: total_pages}
    window: {since_param: updated_since}
    options: {high_water: updatedAt}
`

// Example runs a spec from Go, as pagekit sync does: the spec is read
// and checked, built into a connector whose tables are in an SQLite
// database, and run twice; the second run is incremental: it reads the
// three records changed since the first, and the one at the first's mark,
// which updated_since includes.
func Example() {
	api := mockapi.New(mockapi.Config{Records: 120, Seed: 1})
	srv := httptest.NewServer(api)
	defer srv.Close()
	env := func(name string) (string, bool) { return srv.URL, name == "API" }
	s, err := spec.Parse("users.yaml", []byte(usersSpec), env)
	if err != nil {
		log.Fatal(err) // users.yaml:LINE:COLUMN: what is wrong, and what would do
	}
	dir, err := os.MkdirTemp("", "spec-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "users.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for range 2 {
		b, err := s.Build(ctx, sqliteTables{db}, spec.Settings{})
		if err != nil {
			log.Fatal(err)
		}
		res, err := b.Connector.Run(ctx, b.Streams()...)
		b.Close()
		if err != nil {
			log.Fatal(err)
		}
		for _, st := range res.Streams {
			fmt.Printf("%s: %d records, %d pages, %s\n", st.Stream, st.Items, st.Pages, st.Stop)
		}
		api.Update(3)
	}
	// Output:
	// users: 120 records, 3 pages, total reached
	// users: 4 records, 1 pages, total reached
}
