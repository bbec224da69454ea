package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/postgres"
	"github.com/pagekit/pagekit/sink/schema"
)

func userQuery(nsp string) string {
	return `SELECT "id", "name", "email", "address", "company", "job", "updatedAt", "createdAt" FROM "` + nsp + `"."user" ORDER BY "id"`
}

func userRows(us []usertest.User) [][]any {
	var out [][]any
	for _, u := range us {
		out = append(out, []any{u.ID, u.Name, u.Email, u.Address, u.Company, u.Job, u.UpdatedAt, u.CreatedAt})
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
	const cols = `"id", "i", "l", "d", "b", "dec"::text, "day", "at", "doc", "bin", "opt", "we""ird col", "note"`
	for _, tc := range []struct {
		name  string
		pages [][]allTypes
		want  [][]any
	}{
		{"zero values", [][]allTypes{{{ID: "a"}}},
			[][]any{{"a", int32(0), int64(0), 0.0, false, nil, nil, nil, nil, nil, nil, "", ""}}},
		{"every type", [][]allTypes{{{
			ID: "b", I: -7, L: 1 << 40, D: 2.5, B: true, Dec: "123456789012345678901234567890.000001",
			Day: at, At: at, Doc: map[string]any{"x": []any{1.0, "y"}}, Bin: []byte{0, 0xff}, Opt: s("o"), Quo: `q"`, Note: "n",
		}}}, [][]any{{"b", int32(-7), int64(1 << 40), 2.5, true, "123456789012345678901234567890.000001",
			time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 4, 4, 6, 7, 891234000, time.UTC),
			map[string]any{"x": []any{1.0, "y"}}, []byte{0, 0xff}, "o", `q"`, "n"}}},
		{"later page replaces", [][]allTypes{{{ID: "c", L: 1, Opt: s("x")}}, {{ID: "c", L: 2}}},
			[][]any{{"c", int32(0), int64(2), 0.0, false, nil, nil, nil, nil, nil, nil, "", ""}}},
		{"duplicate in a page: last wins", [][]allTypes{{{ID: "d", L: 1}, {ID: "e"}, {ID: "d", L: 3}}},
			[][]any{
				{"d", int32(0), int64(3), 0.0, false, nil, nil, nil, nil, nil, nil, "", ""},
				{"e", int32(0), int64(0), 0.0, false, nil, nil, nil, nil, nil, nil, "", ""},
			}},
	} {
		for _, copy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/copy=%v", tc.name, copy), func(t *testing.T) {
				pool, nsp := testDB(t)
				sink := newSink(t, pool, schema.Must(schema.Derive[allTypes]("all")), postgres.Config[allTypes]{Schema: nsp})
				postgres.SetCopy(sink, copy)
				for _, p := range tc.pages {
					if err := sink.Write(context.Background(), p); err != nil {
						t.Fatal(err)
					}
				}
				got := dump(t, pool, `SELECT `+cols+` FROM "`+nsp+`"."all" ORDER BY 1`)
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("table (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestCreateTable(t *testing.T) {
	pool, nsp := testDB(t)
	newSink(t, pool, schema.Must(schema.Derive[allTypes]("all")), postgres.Config[allTypes]{Schema: nsp, DeletedColumn: "_deleted"})
	got := dump(t, pool, `SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns
		WHERE table_schema = '`+nsp+`' AND table_name = 'all' ORDER BY ordinal_position`)
	want := [][]any{
		{"id", "text", "NO"}, {"i", "integer", "YES"}, {"l", "bigint", "YES"}, {"d", "double precision", "YES"},
		{"b", "boolean", "YES"}, {"dec", "numeric", "YES"}, {"day", "date", "YES"}, {"at", "timestamp with time zone", "YES"},
		{"doc", "jsonb", "YES"}, {"bin", "bytea", "YES"}, {"opt", "text", "YES"}, {`we"ird col`, "text", "YES"},
		{"note", "text", "YES"}, {"_deleted", "boolean", "NO"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}
}

func TestExistingTable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, ddl, want string
	}{
		{"adds missing columns", `CREATE TABLE %s."user" ("id" varchar(40) PRIMARY KEY, "name" text)`, ""},
		{"wrong key", `CREATE TABLE %s."user" ("id" text, "name" text PRIMARY KEY)`, `primary key is ["name"], schema says ["id"]`},
		{"wrong type", `CREATE TABLE %s."user" ("id" text PRIMARY KEY, "updatedAt" timestamp)`,
			`column "updatedAt" is timestamp without time zone, schema type UTC_DATETIME needs timestamp with time zone`},
		{"case", `CREATE TABLE %s."user" (id text PRIMARY KEY, updatedat timestamptz)`, `the table has column "updatedat", not "updatedAt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, nsp := testDB(t)
			if _, err := pool.Exec(ctx, `CREATE SCHEMA "`+nsp+`"`); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, fmt.Sprintf(tc.ddl, `"`+nsp+`"`)); err != nil {
				t.Fatal(err)
			}
			s, err := postgres.New(ctx, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				us := usertest.Generate(3, 1)
				if err := s.Write(ctx, us); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(userRows(us), dump(t, pool, userQuery(nsp))); diff != "" {
					t.Errorf("table (-want +got):\n%s", diff)
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
	// 3500 rows take the COPY path.
	for _, n := range []int{250, 3500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := context.Background()
			pool, nsp := testDB(t)
			s := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
			users := usertest.Generate(n, 2)
			cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
			if err := s.Commit(ctx, users, cp); err != nil {
				t.Fatal(err)
			}
			first := dump(t, pool, userQuery(nsp))
			if err := s.Commit(ctx, users, cp); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(first, dump(t, pool, userQuery(nsp))); diff != "" {
				t.Errorf("table after replay (-first +replayed):\n%s", diff)
			}
			if diff := cmp.Diff(userRows(users), first); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAtomicPage(t *testing.T) {
	ctx := context.Background()
	before := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	after := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}
	first := usertest.Generate(10, 3)
	page := usertest.Generate(500, 4)

	check := func(t *testing.T, pool *pgxpool.Pool, nsp string, s *postgres.Sink[usertest.User]) {
		t.Helper()
		if diff := cmp.Diff(userRows(first), dump(t, pool, userQuery(nsp))); diff != "" {
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
		if got := len(dump(t, pool, userQuery(nsp))); got != 510 {
			t.Errorf("%d rows after the retry, want 510", got)
		}
	}
	setup := func(t *testing.T, cfg postgres.Config[usertest.User]) (*pgxpool.Pool, string, *postgres.Sink[usertest.User]) {
		pool, nsp := testDB(t)
		cfg.Schema = nsp
		s := newSink(t, pool, usertest.Mapping("user"), cfg)
		if err := s.Commit(ctx, first, before); err != nil {
			t.Fatal(err)
		}
		return pool, nsp, s
	}

	t.Run("error after half the rows", func(t *testing.T) {
		// A delete in the middle splits the page into two upserts, so
		// the failure comes after the first half is in the table.
		mid := page[250].ID
		op := func(u usertest.User) schema.Op {
			if u.ID == mid && u.Name == "" {
				return schema.Delete
			}
			return schema.Upsert
		}
		pool, nsp, s := setup(t, postgres.Config[usertest.User]{Op: op})
		postgres.SetCopy(s, true) // statement by statement, so the hook runs between them
		split := append(append(append([]usertest.User(nil), page[:250]...), usertest.User{ID: mid}), page[250:]...)
		written, boom := 0, errors.New("boom")
		postgres.SetAfterExec(s, func(rows int) error {
			if written += rows; written >= 250 {
				return boom
			}
			return nil
		})
		if err := s.Commit(ctx, split, after); !errors.Is(err, boom) {
			t.Fatalf("Commit: error = %v, want boom", err)
		}
		if written != 250 {
			t.Fatalf("the failure came after %d rows, want 250", written)
		}
		postgres.SetAfterExec(s, nil)
		check(t, pool, nsp, s)
	})

	for _, copy := range []bool{false, true} {
		t.Run(fmt.Sprintf("database refuses a row in the second half/copy=%v", copy), func(t *testing.T) {
			// A delete in the middle splits the page into two upserts;
			// the database refuses a row of the second.
			mid := page[250].ID
			op := func(u usertest.User) schema.Op {
				if u.ID == mid && u.Name == "" {
					return schema.Delete
				}
				return schema.Upsert
			}
			pool, nsp, s := setup(t, postgres.Config[usertest.User]{Op: op})
			postgres.SetCopy(s, copy)
			if _, err := pool.Exec(ctx, `ALTER TABLE "`+nsp+`"."user" ADD CHECK ("email" <> 'refused@example.com')`); err != nil {
				t.Fatal(err)
			}
			refused := append(append(append([]usertest.User(nil), page[:250]...), usertest.User{ID: mid}), page[250:]...)
			refused[301].Email = "refused@example.com"
			err := s.Commit(ctx, refused, after)
			var re *schema.RecordError
			if !errors.As(err, &re) || !errors.Is(err, schema.ErrBadValue) {
				t.Fatalf("Commit: error = %v, want a *RecordError with ErrBadValue", err)
			}
			if re.Index != 301 || re.Key != fmt.Sprintf("id=%q", refused[301].ID) || !strings.Contains(err.Error(), "violates check constraint") {
				t.Errorf("error = %v, want record 301 (id=%q) and the constraint", err, refused[301].ID)
			}
			check(t, pool, nsp, s)
		})

		t.Run(fmt.Sprintf("database refuses a value/copy=%v", copy), func(t *testing.T) {
			type doc struct {
				ID  string         `json:"id" pagekit:",pk"`
				Doc map[string]any `json:"doc"`
			}
			pool, nsp := testDB(t)
			s := newSink(t, pool, schema.Must(schema.Derive[doc]("docs")), postgres.Config[doc]{Schema: nsp})
			postgres.SetCopy(s, copy)
			// jsonb cannot hold a NUL character.
			err := s.Write(ctx, []doc{{ID: "a"}, {ID: "b", Doc: map[string]any{"x": "\x00"}}, {ID: "c"}})
			var re *schema.RecordError
			if !errors.As(err, &re) || !errors.Is(err, schema.ErrBadValue) {
				t.Fatalf("Write: error = %v, want a *RecordError", err)
			}
			if re.Index != 1 || re.Key != `id="b"` || re.Column != "doc" {
				t.Errorf("error = %v, want record 1 (id=\"b\"), column doc", err)
			}
			if n := strings.Count(err.Error(), schema.ErrBadValue.Error()); n != 1 {
				t.Errorf("error = %v, says %q %d times, want once", err, schema.ErrBadValue, n)
			}
			if rows := dump(t, pool, `SELECT * FROM "`+nsp+`"."docs"`); len(rows) != 0 {
				t.Errorf("rows after a refused page: %v", rows)
			}
		})
	}

	t.Run("bad record", func(t *testing.T) {
		pool, nsp, s := setup(t, postgres.Config[usertest.User]{})
		badPage := append([]usertest.User(nil), page...)
		badPage[400].ID = ""
		err := s.Commit(ctx, badPage, after)
		if !errors.Is(err, schema.ErrMissingKey) || !strings.Contains(err.Error(), `table "user": record 400: column "id": missing primary key`) {
			t.Fatalf("Commit: error = %v, want the missing key of record 400", err)
		}
		check(t, pool, nsp, s)
	})
}

type event struct {
	ID    int64     `json:"id" pagekit:",pk"`
	Title string    `json:"title"`
	Op    schema.Op `json:"-" pagekit:"-"`
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
			{{ID: 1, Op: schema.Delete}, {ID: 1, Title: "again"}, {ID: 2, Title: "x"}, {ID: 2, Op: schema.Delete}, {ID: 3, Title: "y"}},
		}, [][]any{{int64(1), "again"}, {int64(3), "y"}}},
		{"soft delete", "_deleted", [][]event{
			{{ID: 1, Title: "a"}, {ID: 2, Title: "b"}},
			{{ID: 2, Title: "ignored", Op: schema.SoftDelete}, {ID: 7, Op: schema.SoftDelete}},
		}, [][]any{{int64(1), "a", false}, {int64(2), "b", true}}},
		{"upsert revives", "_deleted", [][]event{
			{{ID: 1, Title: "a"}},
			{{ID: 1, Op: schema.SoftDelete}},
			{{ID: 1, Title: "back"}},
		}, [][]any{{int64(1), "back", false}}},
	} {
		for _, copy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/copy=%v", tc.name, copy), func(t *testing.T) {
				pool, nsp := testDB(t)
				s := newSink(t, pool, schema.Must(schema.Derive[event]("events")), postgres.Config[event]{Op: op, DeletedColumn: tc.deleted, Schema: nsp})
				postgres.SetCopy(s, copy)
				for _, p := range tc.pages {
					if err := s.Write(ctx, p); err != nil {
						t.Fatal(err)
					}
				}
				if diff := cmp.Diff(tc.want, dump(t, pool, `SELECT * FROM "`+nsp+`"."events" ORDER BY 1`)); diff != "" {
					t.Errorf("table (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestCompositeKeyDelete(t *testing.T) {
	type line struct {
		Order string    `pagekit:"order,pk"`
		N     int32     `pagekit:"n,pk"`
		Day   time.Time `pagekit:"day,pk,naive_date"`
		Qty   string    `pagekit:"qty,decimal"`
		Op    schema.Op `pagekit:"-"`
	}
	ctx := context.Background()
	d := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, copy := range []bool{false, true} {
		t.Run(fmt.Sprintf("copy=%v", copy), func(t *testing.T) {
			pool, nsp := testDB(t)
			s := newSink(t, pool, schema.Must(schema.Derive[line]("lines")), postgres.Config[line]{Schema: nsp, Op: func(l line) schema.Op { return l.Op }})
			postgres.SetCopy(s, copy)
			if err := s.Write(ctx, []line{{"a", 1, d, "1.5", 0}, {"a", 2, d, "2", 0}, {"b", 1, d, "3", 0}}); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, []line{{"a", 2, d, "", schema.Delete}, {"b", 1, d.AddDate(0, 0, 1), "", schema.Delete}}); err != nil {
				t.Fatal(err)
			}
			want := [][]any{{"a", int32(1), "1.5"}, {"b", int32(1), "3"}}
			if diff := cmp.Diff(want, dump(t, pool, `SELECT "order", n, qty::text FROM "`+nsp+`"."lines" ORDER BY 1, 2`)); diff != "" {
				t.Errorf("table (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	pool, nsp := testDB(t)
	s := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
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
	s.Close()
	if err := s.Write(ctx, nil); !errors.Is(err, postgres.ErrClosed) {
		t.Errorf("Write after Close: %v, want ErrClosed", err)
	}
	// Another sink, of another table, shares the state table.
	s2 := newSink(t, pool, schema.Must(schema.Derive[event]("events")), postgres.Config[event]{Schema: nsp})
	for _, want := range cps {
		got, found, err := s2.Load(ctx, want.Stream)
		if err != nil || !found {
			t.Fatalf("Load(%q): %v, %v", want.Stream, found, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("checkpoint (-want +got):\n%s", diff)
		}
	}
}

func TestLock(t *testing.T) {
	ctx := context.Background()
	pool, nsp := testDB(t)
	cfg := postgres.Config[usertest.User]{Schema: nsp}
	a := newSink(t, pool, usertest.Mapping("user"), cfg)
	b := newSink(t, pool, usertest.Mapping("user"), cfg)
	if _, _, err := a.Load(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	// Another stream is free.
	if _, _, err := b.Load(ctx, "orders"); err != nil {
		t.Fatalf("Load of another stream: %v", err)
	}
	_, _, err := b.Load(ctx, "users")
	var le *postgres.LockedError
	if !errors.Is(err, postgres.ErrLocked) || !errors.As(err, &le) {
		t.Fatalf("second Load: error = %v, want ErrLocked", err)
	}
	if le.Stream != "users" || le.PID == 0 || !strings.Contains(err.Error(), fmt.Sprintf("backend pid %d", le.PID)) {
		t.Errorf("LockedError = %+v (%v), want the stream and the holder's pid", le, err)
	}
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 9}}
	if err := b.Commit(ctx, usertest.Generate(3, 1), cp); !errors.Is(err, postgres.ErrLocked) {
		t.Errorf("Commit on a locked stream: error = %v, want ErrLocked", err)
	}
	if rows := dump(t, pool, userQuery(nsp)); len(rows) != 0 {
		t.Errorf("rows after a refused commit: %d", len(rows))
	}

	// A waiting sink gets the lock once the holder lets go.
	w := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp, Wait: true})
	done := make(chan error)
	go func() {
		_, _, err := w.Load(ctx, "users")
		done <- err
	}()
	if err := a.Unlock(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waiting Load: %v", err)
	}
	if _, _, err := a.Load(ctx, "users"); !errors.Is(err, postgres.ErrLocked) {
		t.Errorf("Load after the waiter got the lock: error = %v, want ErrLocked", err)
	}
	// Close releases the lock.
	w.Close()
	if _, _, err := a.Load(ctx, "users"); err != nil {
		t.Errorf("Load after the holder closed: %v", err)
	}

	// A cancelled wait ends with the context's error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	w2 := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp, Wait: true})
	if _, _, err := w2.Load(cctx, "users"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: error = %v, want context.Canceled", err)
	}
}

func TestConnectionLost(t *testing.T) {
	ctx := context.Background()
	pool, nsp := testDB(t)
	cfg := postgres.Config[usertest.User]{Schema: nsp}
	s := newSink(t, pool, usertest.Mapping("user"), cfg)
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	if err := s.Commit(ctx, usertest.Generate(5, 1), cp); err != nil {
		t.Fatal(err)
	}
	// Kill the sink's session, as a network failure or a server restart
	// would. Another sink's refused lock names the session; only that one
	// is killed (other packages' tests share the server), and the kill
	// waits until the session is gone, so that its lock is released.
	var locked *postgres.LockedError
	if err := newSink(t, pool, usertest.Mapping("user"), cfg).Lock(ctx, "users"); !errors.As(err, &locked) || locked.PID == 0 {
		t.Fatalf("a second sink's Lock: error = %v, want a *LockedError naming the first sink's session", err)
	}
	var killed bool
	if err := pool.QueryRow(ctx, `SELECT pg_terminate_backend($1, 10000)`, locked.PID).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the sink's session %d: %v, %v", locked.PID, killed, err)
	}
	err := s.Commit(ctx, usertest.Generate(10, 2), paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}})
	if !errors.Is(err, postgres.ErrConnLost) {
		t.Fatalf("Commit on a dead connection: error = %v, want ErrConnLost", err)
	}
	if err := s.Commit(ctx, nil, cp); !errors.Is(err, postgres.ErrConnLost) {
		t.Errorf("later Commit: error = %v, want ErrConnLost", err)
	}
	// The lock went with the session: another worker takes over at the
	// last committed checkpoint.
	other := newSink(t, pool, usertest.Mapping("user"), cfg)
	got, _, err := other.Load(ctx, "users")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(cp, got); diff != "" {
		t.Errorf("checkpoint (-want +got):\n%s", diff)
	}
	if rows := dump(t, pool, userQuery(nsp)); len(rows) != 5 {
		t.Errorf("%d rows, want the 5 of the committed page", len(rows))
	}
}

func TestRunResumes(t *testing.T) {
	ctx := context.Background()
	pool, nsp := testDB(t)
	users := usertest.Generate(95, 5)
	opts := paginate.Options[usertest.User]{Stream: "users", HighWater: func(u usertest.User) string { return u.UpdatedAt.Format(time.RFC3339) }}
	run := func(failAt int64) ([]int64, paginate.Result, error) {
		s, err := postgres.New(ctx, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var fetched []int64
		api := paginate.PaginatorFunc[usertest.User](func(ctx context.Context, pos paginate.Position) (paginate.Page[usertest.User], error) {
			p := max(pos.Page, 1)
			fetched = append(fetched, p)
			if p == failAt {
				return paginate.Page[usertest.User]{}, paginate.Permanent(fmt.Errorf("page %d is down", p))
			}
			lo, hi := int(p-1)*10, min(int(p)*10, len(users))
			return paginate.Page[usertest.User]{Items: users[lo:hi], More: hi < len(users), Next: paginate.Position{Page: p + 1}}, nil
		})
		res, err := paginate.Run(ctx, api, s, opts)
		return fetched, res, err
	}
	fetched, _, err := run(4)
	if err == nil {
		t.Fatal("first run succeeded, want the failure at page 4")
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4}, fetched); diff != "" {
		t.Errorf("first run fetched (-want +got):\n%s", diff)
	}
	fetched, res, err := run(0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{4, 5, 6, 7, 8, 9, 10}, fetched); diff != "" {
		t.Errorf("second run fetched (-want +got):\n%s", diff)
	}
	if !res.Resumed || res.Items != 65 {
		t.Errorf("second run: resumed %v, %d items; want a resume with 65 items", res.Resumed, res.Items)
	}
	if diff := cmp.Diff(userRows(users), dump(t, pool, userQuery(nsp))); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	hw := users[len(users)-1].UpdatedAt.Format(time.RFC3339)
	got := dump(t, pool, `SELECT checkpoint->>'high_water', checkpoint->'position'->>'since' FROM "`+nsp+`"._pagekit_state`)
	if diff := cmp.Diff([][]any{{hw, hw}}, got); diff != "" {
		t.Errorf("final checkpoint (-want +got):\n%s", diff)
	}
}

func TestCancelledCommit(t *testing.T) {
	pool, nsp := testDB(t)
	s := newSink(t, pool, usertest.Mapping("user"), postgres.Config[usertest.User]{Schema: nsp})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cp := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	if err := s.Commit(ctx, usertest.Generate(10, 1), cp); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit with a cancelled context: error = %v, want context.Canceled", err)
	}
	// Nothing was sent, so the sink goes on with a live context.
	if err := s.Commit(context.Background(), usertest.Generate(10, 1), cp); err != nil {
		t.Fatal(err)
	}
	if got := len(dump(t, pool, userQuery(nsp))); got != 10 {
		t.Errorf("%d rows, want 10", got)
	}
}
