package strategies_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// A registry's catalog, {"repositories": ["a", "b"]} paged by a Link header
// with last=<name>&n=<size> (the Docker registry API), syncs bare strings
// into an SQLite table of one column, with no wrapper type.
func TestScalarItemsIntoSQLite(t *testing.T) {
	var names []string
	for i := range 23 {
		names = append(names, fmt.Sprintf("library/image%02d", i))
	}
	srv, _ := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		from, _ := slices.BinarySearch(names, r.URL.Query().Get("last"))
		if r.URL.Query().Has("last") {
			from++
		}
		end := min(from+n, len(names))
		if end < len(names) {
			w.Header().Set("Link", `</v2/_catalog?last=`+names[end-1]+`&n=`+strconv.Itoa(n)+`>; rel="next"`)
		}
		writeJSON(w, 200, map[string]any{"repositories": names[from:end]})
	}))
	db := openDB(t, "registry.db")
	repos, err := sqlite.New(context.Background(), db, schema.Must(schema.Derive[string]("repositories", "name")), sqlite.Config[string]{})
	if err != nil {
		t.Fatal(err)
	}
	defer repos.Close()
	p := &strategies.NextToken[string]{
		Request:   strategies.Request{URL: srv.URL + "/v2/_catalog"},
		Size:      5,
		SizeParam: strategies.Query("n"),
		Response:  strategies.Shape[string]{ItemsPath: "repositories"},
		LinkRel:   "next",
	}
	res, err := paginate.Run(context.Background(), p, repos, paginate.Options[string]{})
	if err != nil || res.Items != 23 || res.Stop != paginate.StopNoNextToken {
		t.Fatalf("Run: %v, %d items, stop %v", err, res.Items, res.Stop)
	}
	rows, err := db.Query(`SELECT name FROM repositories ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		got = append(got, s)
	}
	if diff := cmp.Diff(names, got); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
