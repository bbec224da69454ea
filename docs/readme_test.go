package docs

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// readmeUser is the README's User, with the fields of the mock API's
// records that the table keeps.
type readmeUser struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// The README's configuration (a page-number paginator sending
// updated_since, the SQLite sink of a table keyed by id, HighWater and
// nothing else) loses nothing when the source changes during a sync and
// between a stop and its resume: the runner takes the table's key, tracks
// the keys and the order of the marks, and the sink keeps the keys of the
// sync in progress. It warns of nothing.
func TestReadmeConfigurationLosesNothing(t *testing.T) {
	ctx := t.Context()
	for seed := uint64(1); seed <= 5; seed++ {
		api := mockapi.New(mockapi.Config{Records: 300, Seed: seed})
		var quiet atomic.Bool
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !quiet.Load() && n.Add(1)%3 == 0 {
				api.Update(2) // records move to the end, across page boundaries
			}
			api.ServeHTTP(w, r)
		}))
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "warehouse.db"))
		if err != nil {
			t.Fatal(err)
		}
		users, err := sqlite.New(ctx, db, schema.Must(schema.Derive[readmeUser]("user", "id")), sqlite.Config[readmeUser]{})
		if err != nil {
			t.Fatal(err)
		}
		p := &strategies.PageNumber[readmeUser]{
			Request:   strategies.Request{URL: srv.URL + mockapi.PathPageNumber, Client: srv.Client()},
			Size:      20,
			SizeParam: strategies.Query("per_page"),
			Response: strategies.Shape[readmeUser]{
				ItemsPath:      "data",
				TotalPagesPath: "total_pages",
			},
			Window: strategies.Window[readmeUser]{SinceParam: strategies.Query("updated_since")},
		}
		opts := paginate.Options[readmeUser]{
			Stream:    "users",
			HighWater: func(u readmeUser) string { return u.UpdatedAt.UTC().Format(time.RFC3339) },
		}
		// A sync stopped after 4 pages, the source changed, resumed
		// (changing as it runs), then syncs until one runs on a quiet
		// source.
		stopped := opts
		stopped.Limits.MaxPages = 4
		if _, err := paginate.Run(ctx, p, users, stopped); err != nil {
			t.Fatal(err)
		}
		api.Update(10)
		res, err := paginate.Run(ctx, p, users, opts)
		if err != nil || len(res.Warnings) > 0 || !res.Resumed {
			t.Fatalf("seed %d: resumed run: %v, resumed %v, warnings %q", seed, err, res.Resumed, res.Warnings)
		}
		quiet.Store(true)
		for range 2 {
			if _, err := paginate.Run(ctx, p, users, opts); err != nil {
				t.Fatal(err)
			}
		}
		want := make(map[string]readmeUser)
		for _, u := range api.Records() {
			want[u.ID] = readmeUser{ID: u.ID, Name: u.Name, UpdatedAt: u.UpdatedAt}
		}
		got := make(map[string]readmeUser)
		rows, err := db.Query(`SELECT id, name, updatedAt FROM "user"`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var u readmeUser
			var at string
			if err := rows.Scan(&u.ID, &u.Name, &at); err != nil {
				t.Fatal(err)
			}
			if u.UpdatedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
				t.Fatal(err)
			}
			got[u.ID] = u
		}
		rows.Close()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("seed %d: the table differs from the source (-source +table):\n%s", seed, diff)
		}
		users.Close()
		db.Close()
		srv.Close()
	}
}
