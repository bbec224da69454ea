package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
)

type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func Example() {
	dir, _ := os.MkdirTemp("", "pagekit")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	db, err := sqlite.Open(filepath.Join(dir, "sync.db"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	users, err := sqlite.New(ctx, db, schema.Must(schema.Derive[User]("user", "id")), sqlite.Config[User]{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer users.Close()

	// Two pages; the sink is the checkpoint store, so each page and its
	// checkpoint are committed together.
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	api := paginate.PaginatorFunc[User](func(ctx context.Context, pos paginate.Position) (paginate.Page[User], error) {
		if pos.Page == 0 {
			return paginate.Page[User]{Items: []User{{"u1", "Ada", at}, {"u2", "Alan", at}}, More: true, Next: paginate.Position{Page: 2}}, nil
		}
		return paginate.Page[User]{Items: []User{{"u1", "Ada Lovelace", at.Add(time.Hour)}}}, nil
	})
	if _, err := paginate.Run(ctx, api, users, paginate.Options[User]{Stream: "users"}); err != nil {
		fmt.Println(err)
		return
	}

	rows, _ := db.Query(`SELECT id, name, updatedAt FROM "user" ORDER BY id`)
	defer rows.Close()
	for rows.Next() {
		var id, name, updated string
		rows.Scan(&id, &name, &updated)
		fmt.Println(id, name, updated)
	}
	// Output:
	// u1 Ada Lovelace 2024-01-02T04:04:05.000000Z
	// u2 Alan 2024-01-02T03:04:05.000000Z
}
