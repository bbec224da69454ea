package duckdb_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/schema"
)

type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// A sync into a DuckDB file: each page's rows and its checkpoint commit in
// one transaction, and a rerun resumes from the checkpoint.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	db, err := duckdb.Open(filepath.Join(dir, "warehouse.duckdb"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	users, err := duckdb.New(ctx, db, schema.Must(schema.Derive[User]("user", "id")), duckdb.Config[User]{})
	if err != nil {
		log.Fatal(err)
	}
	defer users.Close()

	api := paginate.PaginatorFunc[User](func(ctx context.Context, pos paginate.Position) (paginate.Page[User], error) {
		p := max(pos.Page, 1)
		page := []User{{ID: fmt.Sprint(2*p - 1), Name: "Ada"}, {ID: fmt.Sprint(2 * p), Name: "Grace"}}
		return paginate.Page[User]{Items: page, More: p < 3, Next: paginate.Position{Page: p + 1}}, nil
	})
	res, err := paginate.Run(ctx, api, users, paginate.Options[User]{Stream: "users"})
	if err != nil {
		log.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "user"`).Scan(&n); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Items, "records synced;", n, "rows")
	// Output: 6 records synced; 6 rows
}
