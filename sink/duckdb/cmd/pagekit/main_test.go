package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/cli"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/duckdb"
)

// shop is a spec of the mock API's users and each user's orders (a child
// stream, a partition per user), both incremental.
const shop = `streams:
  - name: users
    table: {primary_key: [id]}
    request:
      url: ${API}/pagination/page_number
      query: {order_by: updatedAt}
    paging: {strategy: page_number, size: 50, size_param: per_page}
    response: {items_path: data, total_pages_path: total_pages}
    window: {since_param: updated_since, since_default: "0001-01-01T00:00:00Z"}
    options: {high_water: updatedAt}
  - name: orders
    table: {primary_key: [id], columns: {amount: long}}
    parent: {stream: users, path_values: {id: id}}
    request: {url: "${API}/users/{id}/orders"}
    paging: {strategy: page_number, size: 50, size_param: per_page}
    response: {items_path: data, total_pages_path: total_pages}
    window: {since_param: updated_since}
    options: {high_water: updatedAt}
`

// row is a row of either table, by the columns both have.
type row struct{ ID, UpdatedAt string }

// TestSyncDuckDB syncs the spec into a DuckDB file with -dest duckdb:FILE,
// twice (users updated and inserted between):
// both tables equal the mock's. Then -reset and -show.
func TestSyncDuckDB(t *testing.T) {
	register()
	api := mockapi.New(mockapi.Config{Records: 150, Seed: 8})
	srv := httptest.NewServer(api)
	defer srv.Close()
	t.Setenv("API", srv.URL)
	dir := t.TempDir()
	file := filepath.Join(dir, "shop.yaml")
	if err := os.WriteFile(file, []byte(shop), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "shop.duckdb")
	for round := range 2 {
		if round > 0 {
			api.Update(20)
			api.Insert(5)
		}
		code, out, errOut := run(t, "sync", file, "-dest", "duckdb:"+db)
		if code != 0 {
			t.Fatalf("round %d: status %d\n%s%s", round, code, out, errOut)
		}
		users, orders := mockRows(api)
		gotUsers, gotOrders := tableRows(t, db, "users"), tableRows(t, db, "orders")
		if diff := cmp.Diff(users, gotUsers); diff != "" {
			t.Errorf("round %d: users (-mock +table):\n%s", round, diff)
		}
		if diff := cmp.Diff(orders, gotOrders); diff != "" {
			t.Errorf("round %d: orders (-mock +table):\n%s", round, diff)
		}
	}
	code, out, errOut := run(t, "sync", file, "-streams", "users", "-dest", "duckdb:"+db, "-reset", "-show", "2")
	if code != 0 || !strings.Contains(out, `Table "users", first 2 rows by updatedAt`) || !strings.Contains(out, "records written  155") {
		t.Errorf("-reset -show: status %d\n%s%s", code, out, errOut)
	}
}

// run runs the command, with DuckDB, in this process.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mockRows(api *mockapi.Server) (users, orders []row) {
	for _, u := range api.Records() {
		users = append(users, row{u.ID, u.UpdatedAt.UTC().Format(time.RFC3339Nano)})
		os, _ := api.Orders(u.ID)
		for _, o := range os {
			orders = append(orders, row{o.ID, o.UpdatedAt.UTC().Format(time.RFC3339Nano)})
		}
	}
	byID := func(a, b row) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(users, byID)
	slices.SortFunc(orders, byID)
	return users, orders
}

// tableRows reads a table of the DuckDB file.
func tableRows(t *testing.T, file, table string) []row {
	t.Helper()
	db, err := duckdb.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, "updatedAt" FROM "` + table + `" ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var id string
		var up time.Time
		if err := rows.Scan(&id, &up); err != nil {
			t.Fatal(err)
		}
		out = append(out, row{id, up.UTC().Format(time.RFC3339Nano)})
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
