package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
)

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newSink[T any](t testing.TB, db *sql.DB, m *schema.Mapping[T], cfg sqlite.Config[T]) *sqlite.Sink[T] {
	t.Helper()
	s, err := sqlite.New(context.Background(), db, m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dump returns every row of table, ordered by its first column.
func dump(t testing.TB, db *sql.DB, table string) [][]any {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `" ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// userRow is how a User is stored.
func userRow(u usertest.User) []any {
	return []any{u.ID, u.Name, u.Email, u.Address, u.Company, u.Job,
		sqlite.FormatDatetime(u.UpdatedAt), sqlite.FormatDatetime(u.CreatedAt)}
}

func userRows(us []usertest.User) [][]any {
	var out [][]any
	for _, u := range us {
		out = append(out, userRow(u))
	}
	return out
}

type allTypes struct {
	ID   string         `pagekit:"id,pk"`
	I    int32          `pagekit:"i"`
	L    int64          `pagekit:"l"`
	D    float64        `pagekit:"d"`
	B    bool           `pagekit:"b"`
	Dec  string         `pagekit:"dec,decimal"`
	Day  time.Time      `pagekit:"day,naive_date"`
	At   time.Time      `pagekit:"at"`
	Doc  map[string]any `pagekit:"doc"`
	Bin  []byte         `pagekit:"bin"`
	Opt  *string        `pagekit:"opt"`
	Quo  string         `pagekit:"we\"ird col"`
	Note string         `json:"note"`
}

func TestRoundTrip(t *testing.T) {
	s := func(v string) *string { return &v }
	at := time.Date(2024, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name  string
		pages [][]allTypes
		want  [][]any
	}{
		{"zero values", [][]allTypes{{{ID: "a"}}},
			[][]any{{"a", int64(0), int64(0), 0.0, int64(0), nil, nil, nil, nil, nil, nil, "", ""}}},
		{"every type", [][]allTypes{{{
			ID: "b", I: -7, L: 1 << 40, D: 2.5, B: true, Dec: "123456789012345678901234567890.000001",
			Day: at, At: at, Doc: map[string]any{"x": []any{1.0, "y"}}, Bin: []byte{0, 0xff}, Opt: s("o"), Quo: `q"`, Note: "n",
		}}}, [][]any{{"b", int64(-7), int64(1 << 40), 2.5, int64(1), "123456789012345678901234567890.000001",
			"2024-03-04", "2024-03-04T04:06:07.891234Z", `{"x":[1,"y"]}`, []byte{0, 0xff}, "o", `q"`, "n"}}},
		{"later page replaces", [][]allTypes{{{ID: "c", L: 1, Opt: s("x")}}, {{ID: "c", L: 2}}},
			[][]any{{"c", int64(0), int64(2), 0.0, int64(0), nil, nil, nil, nil, nil, nil, "", ""}}},
		{"duplicate in a page: last wins", [][]allTypes{{{ID: "d", L: 1}, {ID: "e"}, {ID: "d", L: 3}}},
			[][]any{
				{"d", int64(0), int64(3), 0.0, int64(0), nil, nil, nil, nil, nil, nil, "", ""},
				{"e", int64(0), int64(0), 0.0, int64(0), nil, nil, nil, nil, nil, nil, "", ""},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			sink := newSink(t, db, schema.Must(schema.Derive[allTypes]("all")), sqlite.Config[allTypes]{})
			for _, p := range tc.pages {
				if err := sink.Write(context.Background(), p); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.want, dump(t, db, "all")); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateTable(t *testing.T) {
	db := openDB(t)
	newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{DeletedColumn: "_deleted"})
	var ddl string
	if err := db.QueryRow(`SELECT sql FROM sqlite_schema WHERE name = 'user'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	want := `CREATE TABLE "user" (
	"id" TEXT NOT NULL,
	"name" TEXT,
	"email" TEXT,
	"address" TEXT,
	"company" TEXT,
	"job" TEXT,
	"updatedAt" TEXT,
	"createdAt" TEXT,
	"_deleted" INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY ("id")
) STRICT`
	if diff := cmp.Diff(want, ddl); diff != "" {
		t.Errorf("DDL (-want +got):\n%s", diff)
	}
}

func TestExistingTable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, ddl, want string
	}{
		{"adds missing columns", `CREATE TABLE "user" ("id" TEXT PRIMARY KEY, "name" TEXT)`, ""},
		{"wrong key", `CREATE TABLE "user" ("id" TEXT, "name" TEXT PRIMARY KEY)`, `primary key is ["name"], schema says ["id"]`},
		{"wrong type", `CREATE TABLE "user" ("id" TEXT PRIMARY KEY, "updatedAt" INTEGER)`, `column "updatedAt" is INTEGER, schema type UTC_DATETIME needs TEXT`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			if _, err := db.Exec(tc.ddl); err != nil {
				t.Fatal(err)
			}
			s, err := sqlite.New(ctx, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				us := usertest.Generate(3, 1)
				if err := s.Write(ctx, us); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := db.QueryRow(`SELECT count(*) FROM "user" WHERE "job" IS NOT NULL`).Scan(&n); err != nil || n != 3 {
					t.Errorf("rows with a job: %d, %v; want 3", n, err)
				}
				return
			}
			if !errors.Is(err, schema.ErrTableMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: error = %v, want ErrTableMismatch with %q", err, tc.want)
			}
		})
	}
}

func TestReplayIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	users := usertest.Generate(250, 2)
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	if err := s.Commit(ctx, users, cp); err != nil {
		t.Fatal(err)
	}
	first := dump(t, db, "user")
	if err := s.Commit(ctx, users, cp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, dump(t, db, "user")); diff != "" {
		t.Errorf("table after replay (-first +replayed):\n%s", diff)
	}
	if diff := cmp.Diff(userRows(users), first); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

func TestAtomicPage(t *testing.T) {
	ctx := context.Background()
	before := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	after := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}
	first := usertest.Generate(10, 3)
	page := usertest.Generate(500, 4)

	check := func(t *testing.T, db *sql.DB, s *sqlite.Sink[usertest.User]) {
		t.Helper()
		if diff := cmp.Diff(userRows(first), dump(t, db, "user")); diff != "" {
			t.Errorf("table after a failed page (-want +got):\n%s", diff)
		}
		cp, found, err := s.Load(ctx, "users")
		if err != nil || !found {
			t.Fatalf("Load: %v, %v", found, err)
		}
		if diff := cmp.Diff(before, cp); diff != "" {
			t.Errorf("checkpoint (-want +got):\n%s", diff)
		}
		// The sink is still usable: the page goes in on a retry.
		if err := s.Commit(ctx, page, after); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if got := len(dump(t, db, "user")); got != 510 {
			t.Errorf("%d rows after the retry, want 510", got)
		}
	}

	t.Run("error after half the rows", func(t *testing.T) {
		db := openDB(t)
		s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
		if err := s.Commit(ctx, first, before); err != nil {
			t.Fatal(err)
		}
		written, boom := 0, errors.New("boom")
		sqlite.SetAfterExec(s, func(rows int) error {
			if written += rows; written >= 250 {
				return boom
			}
			return nil
		})
		if err := s.Commit(ctx, page, after); !errors.Is(err, boom) {
			t.Fatalf("Commit: error = %v, want boom", err)
		}
		if written < 250 || written >= 500 {
			t.Fatalf("the failure came after %d rows, want half the page", written)
		}
		sqlite.SetAfterExec(s, nil)
		check(t, db, s)
	})

	// Constraints the schema does not know about: the database refuses a
	// row of the page, after earlier rows and statements succeeded (100
	// rows a statement). The error names the row and nothing of the page
	// is written.
	for _, tc := range []struct {
		name       string
		constraint string // of the email column
		refuse     func(page []usertest.User)
		index      int
		msg        string
		tx         bool // through CommitTx
	}{
		{name: "first row of a statement", constraint: "CHECK (\"email\" <> 'refused@example.com')",
			refuse: func(p []usertest.User) { p[300].Email = "refused@example.com" }, index: 300, msg: "CHECK constraint failed"},
		{name: "row within a statement", constraint: "CHECK (\"email\" <> 'refused@example.com')",
			refuse: func(p []usertest.User) { p[350].Email = "refused@example.com" }, index: 350, msg: "CHECK constraint failed"},
		{name: "row within a statement, CommitTx", constraint: "CHECK (\"email\" <> 'refused@example.com')",
			refuse: func(p []usertest.User) { p[350].Email = "refused@example.com" }, index: 350, msg: "CHECK constraint failed", tx: true},
		{name: "row an earlier statement conflicts with", constraint: "UNIQUE",
			refuse: func(p []usertest.User) { p[350].Email = p[50].Email }, index: 350, msg: "UNIQUE constraint failed"},
		{name: "update of an existing row", constraint: "CHECK (\"email\" <> 'refused@example.com')",
			refuse: func(p []usertest.User) { p[350].ID, p[350].Email = first[3].ID, "refused@example.com" }, index: 350, msg: "CHECK constraint failed"},
	} {
		t.Run("database refuses a row: "+tc.name, func(t *testing.T) {
			db := openDB(t)
			_, err := db.Exec(`CREATE TABLE "user" ("id" TEXT PRIMARY KEY, "name" TEXT, "email" TEXT ` + tc.constraint + `,
			"address" TEXT, "company" TEXT, "job" TEXT, "updatedAt" TEXT, "createdAt" TEXT) STRICT`)
			if err != nil {
				t.Fatal(err)
			}
			s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
			if err := s.Commit(ctx, first, before); err != nil {
				t.Fatal(err)
			}
			refused := append([]usertest.User(nil), page...)
			tc.refuse(refused)
			if tc.tx {
				err = s.CommitTx(ctx, refused, after, func(context.Context, *sql.Tx) error {
					t.Error("CommitTx ran its function after a refused row")
					return nil
				})
			} else {
				err = s.Commit(ctx, refused, after)
			}
			var re *schema.RecordError
			if !errors.As(err, &re) || !errors.Is(err, schema.ErrBadValue) {
				t.Fatalf("Commit: error = %v, want a *RecordError with ErrBadValue", err)
			}
			if re.Index != tc.index || re.Key != fmt.Sprintf("id=%q", refused[tc.index].ID) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error = %v, want record %d (id=%q) and %q", err, tc.index, refused[tc.index].ID, tc.msg)
			}
			check(t, db, s)
		})
	}

	t.Run("bad record", func(t *testing.T) {
		db := openDB(t)
		s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
		if err := s.Commit(ctx, first, before); err != nil {
			t.Fatal(err)
		}
		badPage := append([]usertest.User(nil), page...)
		badPage[400].ID = ""
		badPage[401].Name = "\xff"
		err := s.Commit(ctx, badPage, after)
		if !errors.Is(err, schema.ErrMissingKey) || !strings.Contains(err.Error(), `table "user": record 400: column "id": missing primary key`) {
			t.Fatalf("Commit: error = %v, want the missing key of record 400", err)
		}
		check(t, db, s)
	})
}

type event struct {
	ID      int64     `json:"id" pagekit:",pk"`
	Title   string    `json:"title"`
	Deleted bool      `json:"deleted" pagekit:"-"`
	Op      schema.Op `json:"-" pagekit:"-"`
}

func TestOperations(t *testing.T) {
	ctx := context.Background()
	op := func(e event) schema.Op { return e.Op }
	for _, tc := range []struct {
		name    string
		deleted string
		pages   [][]event
		want    [][]any
	}{
		{"delete", "", [][]event{
			{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}, {ID: 3, Title: "c"}},
			{{ID: 2, Op: schema.Delete}, {ID: 9, Op: schema.Delete}},
		}, [][]any{{int64(1), "a"}, {int64(3), "c"}}},
		{"delete then upsert in one page", "", [][]event{
			{{ID: 1, Title: "a"}},
			{{ID: 1, Op: schema.Delete}, {ID: 1, Title: "again"}},
		}, [][]any{{int64(1), "again"}}},
		{"soft delete", "_deleted", [][]event{
			{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}},
			{{ID: 2, Title: "ignored", Op: schema.SoftDelete}, {ID: 7, Op: schema.SoftDelete}},
		}, [][]any{{int64(1), "a", int64(0)}, {int64(2), "b", int64(1)}}},
		{"upsert revives", "_deleted", [][]event{
			{{ID: 1, Title: "a"}},
			{{ID: 1, Op: schema.SoftDelete}},
			{{ID: 1, Title: "back"}},
		}, [][]any{{int64(1), "back", int64(0)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			s := newSink(t, db, schema.Must(schema.Derive[event]("events")), sqlite.Config[event]{Op: op, DeletedColumn: tc.deleted})
			for _, p := range tc.pages {
				if err := s.Write(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tc.want, dump(t, db, "events")); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}

	db := openDB(t)
	s := newSink(t, db, schema.Must(schema.Derive[event]("events")), sqlite.Config[event]{Op: op})
	err := s.Write(ctx, []event{{ID: 1}, {ID: 2, Op: schema.SoftDelete}})
	if !errors.Is(err, schema.ErrBadOp) || !strings.Contains(err.Error(), "record 1 (id=2)") {
		t.Errorf("soft delete without a deleted column: error = %v", err)
	}
	if rows := dump(t, db, "events"); len(rows) != 0 {
		t.Errorf("rows after a refused page: %v", rows)
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	if _, found, err := s.Load(ctx, "users"); found || err != nil {
		t.Fatalf("Load of a new stream: found %v, error %v", found, err)
	}
	cps := []paginate.Checkpoint{
		{Stream: "users", Position: paginate.Position{Page: 3, Since: "2024-01-01T00:00:00Z"}, HighWater: "2024-02-01T00:00:00Z"},
		{Stream: "other", Position: paginate.Position{Token: "abc\n\"x\""}},
	}
	for _, cp := range cps {
		if err := s.Save(ctx, cp); err != nil {
			t.Fatal(err)
		}
	}
	// A second sink of another table shares the state table; it reads
	// the streams once the first sink, their writer, is closed.
	s.Close()
	s2 := newSink(t, db, schema.Must(schema.Derive[event]("events")), sqlite.Config[event]{})
	for _, want := range cps {
		got, found, err := s2.Load(ctx, want.Stream)
		if err != nil || !found {
			t.Fatalf("Load(%q): %v, %v", want.Stream, found, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("checkpoint (-want +got):\n%s", diff)
		}
	}
	if err := s.Write(ctx, nil); !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
}

// pages serves users, per a page, by page number from 1; fail decides
// whether the fetch of a page fails.
func pages(users []usertest.User, per int, fail func(page int64) bool, fetched *[]int64) paginate.Paginator[usertest.User] {
	return paginate.PaginatorFunc[usertest.User](func(ctx context.Context, pos paginate.Position) (paginate.Page[usertest.User], error) {
		p := max(pos.Page, 1)
		*fetched = append(*fetched, p)
		if fail(p) {
			return paginate.Page[usertest.User]{}, paginate.Permanent(fmt.Errorf("page %d is down", p))
		}
		lo, hi := int(p-1)*per, min(int(p)*per, len(users))
		return paginate.Page[usertest.User]{Items: users[lo:hi], More: hi < len(users), Next: paginate.Position{Page: p + 1}}, nil
	})
}

func TestRunResumes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sync.db")
	users := usertest.Generate(95, 5)
	opts := paginate.Options[usertest.User]{Stream: "users", HighWater: func(u usertest.User) string { return sqlite.FormatDatetime(u.UpdatedAt) }}

	// The first run dies at page 4, as a crashed process would.
	run := func(fail func(int64) bool) ([]int64, paginate.Result, error) {
		db, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := sqlite.New(ctx, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var fetched []int64
		res, err := paginate.Run(ctx, pages(users, 10, fail, &fetched), s, opts)
		return fetched, res, err
	}
	fetched, _, err := run(func(p int64) bool { return p == 4 })
	if err == nil {
		t.Fatal("first run succeeded, want the failure at page 4")
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4}, fetched); diff != "" {
		t.Errorf("first run fetched (-want +got):\n%s", diff)
	}

	fetched, res, err := run(func(int64) bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{4, 5, 6, 7, 8, 9, 10}, fetched); diff != "" {
		t.Errorf("second run fetched (-want +got):\n%s", diff)
	}
	if !res.Resumed || res.Items != 65 {
		t.Errorf("second run: resumed %v, %d items; want a resume with 65 items", res.Resumed, res.Items)
	}

	db := openDB(t)
	db.Close()
	db, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if diff := cmp.Diff(userRows(users), dump(t, db, "user")); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	var text string
	if err := db.QueryRow(`SELECT checkpoint FROM _pagekit_state WHERE stream = 'users'`).Scan(&text); err != nil {
		t.Fatal(err)
	}
	hw := sqlite.FormatDatetime(users[len(users)-1].UpdatedAt)
	if want := fmt.Sprintf(`{"stream":"users","position":{"since":%q},"high_water":%q,"identity":"table=user"}`, hw, hw); text != want {
		t.Errorf("final checkpoint:\n%s\nwant\n%s", text, want)
	}
}

// A deletions endpoint that returns only ids feeds the same table through
// a second sink of a type that has only the key.
func TestDeleteOnlySink(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	users := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	all := usertest.Generate(5, 1)
	if err := users.Write(ctx, all); err != nil {
		t.Fatal(err)
	}
	type deleted struct {
		ID string `json:"id" pagekit:",pk"`
	}
	gone := newSink(t, db, schema.Must(schema.Derive[deleted]("user")), sqlite.Config[deleted]{
		Op: func(deleted) schema.Op { return schema.Delete },
	})
	if err := gone.Write(ctx, []deleted{{all[1].ID}, {all[3].ID}}); err != nil {
		t.Fatal(err)
	}
	want := userRows([]usertest.User{all[0], all[2], all[4]})
	if diff := cmp.Diff(want, dump(t, db, "user")); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

// Sinks of several tables in one database commit concurrently: SQLite
// takes one writer at a time and the others wait (busy timeout).
func TestConcurrentSinks(t *testing.T) {
	ctx := context.Background()
	db := openDB(t)
	const sinks, pages, per = 3, 20, 50
	errs := make(chan error, sinks)
	for i := range sinks {
		s := newSink(t, db, usertest.Mapping(fmt.Sprintf("user%d", i)), sqlite.Config[usertest.User]{})
		users := usertest.Generate(pages*per, uint64(i))
		go func() {
			for p := range pages {
				cp := paginate.Checkpoint{Stream: fmt.Sprintf("s%d", i), Position: paginate.Position{Page: int64(p + 2)}}
				if err := s.Commit(ctx, users[p*per:(p+1)*per], cp); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range sinks {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range sinks {
		if got := len(dump(t, db, fmt.Sprintf("user%d", i))); got != pages*per {
			t.Errorf("table user%d has %d rows, want %d", i, got, pages*per)
		}
	}
}

func TestCancelledCommit(t *testing.T) {
	db := openDB(t)
	s := newSink(t, db, usertest.Mapping("user"), sqlite.Config[usertest.User]{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	if err := s.Commit(ctx, usertest.Generate(10, 1), cp); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a cancelled context: error = %v, want context.Canceled", err)
	}
	if _, found, _ := s.Load(context.Background(), "users"); found {
		t.Error("a cancelled commit saved its checkpoint")
	}
	// The sink goes on with a live context.
	if err := s.Commit(context.Background(), usertest.Generate(10, 1), cp); err != nil {
		t.Fatal(err)
	}
	if got := len(dump(t, db, "user")); got != 10 {
		t.Errorf("%d rows, want 10", got)
	}
}
