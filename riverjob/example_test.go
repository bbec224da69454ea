package riverjob_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/riverjob"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

type User struct {
	ID        string    `json:"id" pagekit:",pk"`
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// A connector of one stream, synced as a River job in one process on
// SQLite: River's jobs and the table in one file. On PostgreSQL, the same
// code with riverpgxv5, the PostgreSQL sink and riverjob.New[pgx.Tx] runs
// on as many workers as share the database.
func Example() {
	ctx := context.Background()
	api, err := mockapi.Start(mockapi.Config{Records: 30, Seed: 1})
	check(err)
	defer api.Close()
	dir, err := os.MkdirTemp("", "riverjob-example")
	check(err)
	defer os.RemoveAll(dir)

	db, err := sqlite.Open(filepath.Join(dir, "shop.db"))
	check(err)
	defer db.Close()
	check(riverjob.MigrateSQLite(ctx, db))
	users, err := sqlite.New(ctx, db, schema.Must(schema.Derive[User]("users")), sqlite.Config[User]{})
	check(err)
	defer users.Close()

	// The sink completes the job in its last page's transaction.
	shop, err := connector.New(connector.Config{}, connector.NewStream("users", &strategies.PageNumber[User]{
		Request:   strategies.Request{URL: api.URL + mockapi.PathPageNumber},
		Size:      10,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}, riverjob.Completing(users), paginate.Options[User]{}))
	check(err)

	jobs, err := riverjob.New[*sql.Tx](riverjob.Config{Connectors: map[string]*connector.Connector{"shop": shop}})
	check(err)
	workers := river.NewWorkers()
	check(jobs.AddWorkers(workers))
	client, err := river.NewClient(riversqlite.New(db), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:           workers,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 10 * time.Millisecond,
		Logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	check(err)
	check(client.Start(ctx))
	defer client.Stop(ctx)

	res, err := jobs.Enqueue(ctx, client, "shop")
	check(err)
	job := res[0].Job
	for job.FinalizedAt == nil {
		time.Sleep(10 * time.Millisecond)
		job, err = client.JobGet(ctx, job.ID)
		check(err)
	}
	var n int
	check(db.QueryRow(`SELECT count(*) FROM users`).Scan(&n))
	fmt.Println(job.Kind, job.State == rivertype.JobStateCompleted, n, "users")
	// Output: pagekit_partition true 30 users
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
