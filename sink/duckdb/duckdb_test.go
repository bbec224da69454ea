package duckdb_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/duckdb"
	"github.com/pagekit/pagekit/sink/internal/usertest"
	"github.com/pagekit/pagekit/sink/schema"
)

// holdEnv, in the environment, makes the test binary a process that opens
// the DuckDB file it names, says so, and holds it until its stdin closes.
const holdEnv = "PAGEKIT_DUCKDB_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		db, err := duckdb.Open(path)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("open")
		bufio.NewReader(os.Stdin).ReadString('\n')
		db.Close()
		return
	}
	os.Exit(m.Run())
}

func openDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.duckdb")
	db, err := duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func newSink(t *testing.T, db *sql.DB) *duckdb.Sink[usertest.User] {
	t.Helper()
	s, err := duckdb.New(context.Background(), db, usertest.Mapping("user"), duckdb.Config[usertest.User]{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func count(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM "user"`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A page that fails part-way, or whose row a constraint of the table
// refuses, leaves the table and the checkpoint as they were; a refused
// row is named; the sink goes on.
func TestAtomicPage(t *testing.T) {
	ctx := context.Background()
	before := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 2}}
	after := paginate.Checkpoint{Stream: "users", Position: paginate.Position{Page: 3}}
	first := usertest.Generate(10, 3)
	page := usertest.Generate(500, 4)
	check := func(t *testing.T, db *sql.DB, s *duckdb.Sink[usertest.User]) {
		t.Helper()
		if n := count(t, db); n != 10 {
			t.Errorf("%d rows after a failed page, want 10", n)
		}
		cp, _, err := s.Load(ctx, "users")
		if err != nil || cp.Position != before.Position {
			t.Errorf("checkpoint after a failed page: %+v, %v", cp, err)
		}
		if err := s.Commit(ctx, page, after); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if n := count(t, db); n != 510 {
			t.Errorf("%d rows after the retry, want 510", n)
		}
	}
	t.Run("error after the rows", func(t *testing.T) {
		db, _ := openDB(t)
		s := newSink(t, db)
		if err := s.Commit(ctx, first, before); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		duckdb.SetAfterFlush(s, func(int) error { return boom })
		if err := s.Commit(ctx, page, after); !errors.Is(err, boom) {
			t.Fatalf("Commit: %v, want boom", err)
		}
		duckdb.SetAfterFlush(s, nil)
		check(t, db, s)
	})
	for _, tc := range []struct {
		name, constraint string
		refuse           func(p []usertest.User)
		index            int
		msg              string
	}{
		{"check", `CHECK ("email" <> 'refused@example.com')`, func(p []usertest.User) { p[350].Email = "refused@example.com" }, 350, "CHECK constraint"},
		{"unique with an earlier row of the page", "UNIQUE", func(p []usertest.User) { p[350].Email = p[50].Email }, 350, "onstraint"},
		{"update of an existing row", `CHECK ("email" <> 'refused@example.com')`, func(p []usertest.User) { p[350].ID, p[350].Email = first[3].ID, "refused@example.com" }, 350, "CHECK constraint"},
	} {
		t.Run("database refuses a row: "+tc.name, func(t *testing.T) {
			db, _ := openDB(t)
			if _, err := db.Exec(`CREATE TABLE "user" (id VARCHAR PRIMARY KEY, name VARCHAR, email VARCHAR ` + tc.constraint + `,
				address VARCHAR, company VARCHAR, job VARCHAR, "updatedAt" TIMESTAMPTZ, "createdAt" TIMESTAMPTZ)`); err != nil {
				t.Fatal(err)
			}
			s := newSink(t, db)
			if err := s.Commit(ctx, first, before); err != nil {
				t.Fatal(err)
			}
			refused := append([]usertest.User(nil), page...)
			tc.refuse(refused)
			err := s.Commit(ctx, refused, after)
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
}

func TestDecimal(t *testing.T) {
	type price struct {
		ID    int64  `pagekit:"id,pk"`
		Price string `pagekit:"price,decimal"`
	}
	ctx := context.Background()
	db, _ := openDB(t)
	s, err := duckdb.New(ctx, db, schema.Must(schema.Derive[price]("price")), duckdb.Config[price]{DecimalScale: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(ctx, []price{{1, "-12.5e1"}, {2, "999999999999999999999999999999999999.99"}, {3, "0.10"}}); err != nil {
		t.Fatal(err)
	}
	var got []string
	rows, err := db.Query(`SELECT price::VARCHAR FROM price ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p string
		rows.Scan(&p)
		got = append(got, p)
	}
	rows.Close()
	if diff := cmp.Diff([]string{"-125.00", "999999999999999999999999999999999999.99", "0.10"}, got); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"0.001", "1e36"} {
		err := s.Write(ctx, []price{{4, "1"}, {5, bad}})
		var re *schema.RecordError
		if !errors.As(err, &re) || !errors.Is(err, schema.ErrBadValue) || re.Index != 1 || re.Column != "price" {
			t.Errorf("price %s: error = %v, want a RecordError for record 1, column price", bad, err)
		}
	}
}

func TestExistingTable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, ddl, want string }{
		{"adds missing columns", `CREATE TABLE "user" (id VARCHAR PRIMARY KEY, name VARCHAR)`, ""},
		{"wrong key", `CREATE TABLE "user" (id VARCHAR, name VARCHAR PRIMARY KEY)`, `primary key is ["name"], schema says ["id"]`},
		{"wrong type", `CREATE TABLE "user" (id VARCHAR PRIMARY KEY, "updatedAt" BIGINT)`, `column "updatedAt" is BIGINT, schema type UTC_DATETIME needs TIMESTAMPTZ`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openDB(t)
			if _, err := db.Exec(tc.ddl); err != nil {
				t.Fatal(err)
			}
			s, err := duckdb.New(ctx, db, usertest.Mapping("user"), duckdb.Config[usertest.User]{})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if err := s.Write(ctx, usertest.Generate(3, 1)); err != nil {
					t.Fatal(err)
				}
				var n int
				db.QueryRow(`SELECT count(*) FROM "user" WHERE job IS NOT NULL`).Scan(&n)
				if n != 3 {
					t.Errorf("rows with a job: %d, want 3", n)
				}
				return
			}
			if !errors.Is(err, schema.ErrTableMismatch) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: error = %v, want ErrTableMismatch with %q", err, tc.want)
			}
		})
	}
}

// A database file another process has open cannot be opened: the error
// names that process.
func TestOpenLockedByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "held.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "open\n" {
		t.Fatalf("the holder said %q", line)
	}
	_, err := duckdb.Open(path)
	var le *duckdb.LockedError
	if !errors.As(err, &le) || !errors.Is(err, duckdb.ErrLocked) || le.PID != cmd.Process.Pid {
		t.Fatalf("Open of a held file: %v, want a LockedError naming process %d", err, cmd.Process.Pid)
	}
	t.Log(err)
	stdin.Close()
	cmd.Wait()
	db, err := duckdb.Open(path)
	if err != nil {
		t.Fatalf("Open once the holder ended: %v", err)
	}
	db.Close()
}
