package postgres_test

import (
	"context"
	"errors"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
)

type User struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// A worker syncs a stream into PostgreSQL; a second worker started on the
// same stream stops with ErrLocked instead of doing the work twice.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("PAGEKIT_POSTGRES_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	users, err := postgres.New(ctx, pool, schema.Must(schema.Derive[User]("user", "id")), postgres.Config[User]{})
	if err != nil {
		log.Fatal(err)
	}
	defer users.Close() // releases the stream's lock

	var api paginate.Paginator[User] // the connector's paginator
	_, err = paginate.Run(ctx, api, users, paginate.Options[User]{Stream: "users"})
	if errors.Is(err, postgres.ErrLocked) {
		log.Print("another worker is syncing users: ", err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
}
