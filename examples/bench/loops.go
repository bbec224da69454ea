package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strconv"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// loopFlag makes the command one of the hand-written loops the flagship is
// measured against, in a process of its own as the flagship is:
//
//	floor  GET a page, decode it into structs, next page: no destination
//	hand   the floor, plus each page upserted row by row into SQLite with
//	       a prepared statement, and a checkpoint row, in one transaction
//	seed   the SDK example's loop shape (Fivetran's page-number connector): a new connection a request,
//	       records decoded into maps, one upsert statement a record, a
//	       checkpoint and a commit a page
const loopFlag = "-child-loop"

// runLoop runs the loop named by args[0] and exits non-zero on failure.
func runLoop(args []string) {
	fs := flag.NewFlagSet("loop", flag.ExitOnError)
	endpoint := fs.String("url", "", "page-number endpoint")
	db := fs.String("db", "", "SQLite file (hand, seed)")
	perPage := fs.Int("per-page", 50, "records a page")
	records := fs.Int("records", 0, "records expected")
	_ = fs.Parse(args[1:])
	ctx := context.Background()
	var (
		n   int
		err error
	)
	switch args[0] {
	case "floor":
		n, err = handLoop(ctx, http.DefaultClient, *endpoint, *perPage)
	case "hand":
		n, err = handSQLite(ctx, *endpoint, *db, *perPage)
	case "seed":
		n, err = seedLoop(ctx, *endpoint, *db, *perPage)
	default:
		err = fmt.Errorf("no loop %q", args[0])
	}
	if err == nil && n != *records {
		err = fmt.Errorf("synced %d records, want %d", n, *records)
	}
	if err != nil {
		log.Fatalf("%s loop: %v", args[0], err)
	}
}

// userDDL is the USER table as the SDK example declares it, and the state table.
var userDDL = []string{
	`CREATE TABLE IF NOT EXISTS "user" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT, "email" TEXT, "address" TEXT,
		"company" TEXT, "job" TEXT, "updatedAt" TEXT, "createdAt" TEXT)`,
	`CREATE TABLE IF NOT EXISTS state (stream TEXT PRIMARY KEY, state TEXT)`,
}

const upsertUser = `INSERT INTO "user" VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET
	"name" = excluded."name", "email" = excluded."email", "address" = excluded."address", "company" = excluded."company",
	"job" = excluded."job", "updatedAt" = excluded."updatedAt", "createdAt" = excluded."createdAt"`

const saveState = `INSERT INTO state VALUES ('user', ?) ON CONFLICT (stream) DO UPDATE SET state = excluded.state`

// openLoopDB opens path with the pragmas of sqlite.Open (those the
// flagship's sink uses) and creates the tables.
func openLoopDB(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sqlite.Open(path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, q := range userDDL {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// handSQLite is the loop a Go engineer writes without pagekit: fetch,
// decode into structs, and commit each page's rows and checkpoint in one
// transaction with a prepared upsert.
func handSQLite(ctx context.Context, endpoint, path string, perPage int) (int, error) {
	db, err := openLoopDB(ctx, path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	upsert, err := db.PrepareContext(ctx, upsertUser)
	if err != nil {
		return 0, err
	}
	save, err := db.PrepareContext(ctx, saveState)
	if err != nil {
		return 0, err
	}
	n := 0
	for page := 1; ; page++ {
		var body struct {
			Data       []mockapi.User `json:"data"`
			TotalPages int            `json:"total_pages"`
		}
		if err := getJSON(ctx, http.DefaultClient, pageURL(endpoint, perPage, page), &body); err != nil {
			return n, err
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return n, err
		}
		txUpsert, txSave := tx.StmtContext(ctx, upsert), tx.StmtContext(ctx, save)
		for _, u := range body.Data {
			if _, err := txUpsert.ExecContext(ctx, u.ID, u.Name, u.Email, u.Address, u.Company, u.Job,
				sqlite.FormatDatetime(u.UpdatedAt), sqlite.FormatDatetime(u.CreatedAt)); err != nil {
				tx.Rollback()
				return n, err
			}
		}
		if _, err := txSave.ExecContext(ctx, strconv.Itoa(page+1)); err != nil {
			tx.Rollback()
			return n, err
		}
		if err := tx.Commit(); err != nil {
			return n, err
		}
		n += len(body.Data)
		if len(body.Data) == 0 || page >= body.TotalPages {
			return n, nil
		}
	}
}

// seedLoop is the SDK example's sync_items in Go, as a stand-in for the
// Python original: requests.get opens a new connection for every request,
// response.json() makes a dict of every record, op.upsert writes one
// record at a time, and op.checkpoint after each page commits. It uses the
// flagship's pragmas and Go's speed, so it flatters the original.
func seedLoop(ctx context.Context, endpoint, path string, perPage int) (int, error) {
	db, err := openLoopDB(ctx, path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	cursor := "0001-01-01T00:00:00Z"
	params := url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}, "per_page": {strconv.Itoa(perPage)},
		"updated_since": {cursor}}
	n := 0
	for {
		var body map[string]any
		if err := getJSON(ctx, client, endpoint+"?"+params.Encode(), &body); err != nil {
			return n, err
		}
		items, _ := body["data"].([]any)
		if len(items) == 0 {
			return n, nil
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return n, err
		}
		for _, it := range items {
			u, _ := it.(map[string]any)
			if _, err := tx.ExecContext(ctx, upsertUser, u["id"], u["name"], u["email"], u["address"], u["company"], u["job"],
				u["updatedAt"], u["createdAt"]); err != nil {
				tx.Rollback()
				return n, err
			}
			cursor, _ = u["updatedAt"].(string)
		}
		state, _ := json.Marshal(map[string]string{"last_updated_at": cursor})
		if _, err := tx.ExecContext(ctx, saveState, string(state)); err != nil {
			tx.Rollback()
			return n, err
		}
		if err := tx.Commit(); err != nil {
			return n, err
		}
		n += len(items)
		page, _ := body["page"].(float64)
		total, _ := body["total_pages"].(float64)
		if page >= total {
			return n, nil
		}
		params.Set("page", strconv.Itoa(int(page)+1))
	}
}

func pageURL(endpoint string, perPage, page int) string {
	return fmt.Sprintf("%s?order_by=updatedAt&order_type=asc&per_page=%d&page=%d", endpoint, perPage, page)
}

// getJSON GETs u and decodes its JSON body into v.
func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
