package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// tables lists the tables of an SQLite file, but pagekit's own.
func tables(t *testing.T, path string) []string {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\_pagekit%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	return out
}

// TestStreamsAndRestart syncs some of a spec's streams (-streams), stops
// one early (-limit), changes the spec's page size and the source, and
// checks that the stopped stream's checkpoint is refused with the advice
// to run with -restart, which starts it over from its last completed
// sync: the tables equal the mock's, and a stream left out is not
// touched.
func TestStreamsAndRestart(t *testing.T) {
	const secret = "cs-streams"
	a := serve(t, mockapi.Config{Records: 200, Seed: 6, OAuth: mockapi.OAuth{ClientID: "pagekit-test", ClientSecret: secret}})
	t.Setenv("API", a.URL)
	t.Setenv("CLIENT_SECRET", secret)
	dir := t.TempDir()
	db := filepath.Join(dir, "shop.db")
	sync := func(spec string, args ...string) (int, string) {
		t.Helper()
		code, stdout, stderr := run(t, append([]string{"sync", spec, "-dest", "sqlite:" + db}, args...)...)
		return code, stdout + stderr
	}

	if code, out := sync("testdata/shop.yaml", "-streams", "users", "-limit", "60"); code != 0 || !strings.Contains(out, "stop reason      max items") {
		t.Fatalf("-streams users -limit 60: status %d\n%s", code, out)
	}
	if got := tables(t, db); !cmp.Equal(got, []string{"users"}) {
		t.Errorf("after -streams users, tables %q", got)
	}
	if n := len(readUsers(t, db, "users")); n != 100 {
		t.Errorf("-limit 60 with pages of 50 wrote %d users, want 100", n)
	}

	// Pages of 20 where the checkpoint was saved with pages of 50.
	a.Update(10)
	a.Insert(3)
	b, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec20 := filepath.Join(dir, "shop20.yaml")
	if err := os.WriteFile(spec20, bytes.Replace(b, []byte("size: 50"), []byte("size: 20"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := sync(spec20, "-streams", "users"); code != 1 || !strings.Contains(out, `saved with other settings: size "50", now "20"`) ||
		!strings.Contains(out, "run again with -restart") {
		t.Errorf("other settings without -restart: status %d\n%s", code, out)
	}
	if code, out := sync(spec20, "-streams", "users", "-restart"); code != 0 || !strings.Contains(out, "started over from the last completed sync") {
		t.Errorf("-restart: status %d\n%s", code, out)
	}
	if diff := cmp.Diff(byID(a.Records()), readUsers(t, db, "users")); diff != "" {
		t.Errorf("users after -restart (-mock +table):\n%s", diff)
	}
	if got := tables(t, db); !cmp.Equal(got, []string{"users"}) {
		t.Errorf("after -streams users -restart, tables %q", got)
	}

	// A child stream alone lists its parent without writing it.
	users := readUsers(t, db, "users")
	a.Update(5)
	if code, out := sync(spec20, "-streams", "orders"); code != 0 {
		t.Errorf("-streams orders: status %d\n%s", code, out)
	}
	if diff := cmp.Diff(users, readUsers(t, db, "users")); diff != "" {
		t.Errorf("-streams orders changed users (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(mockOrders(a), readOrders(t, db)); diff != "" {
		t.Errorf("orders (-mock +table):\n%s", diff)
	}
	if code, out := sync(spec20, "-streams", "users,nope"); code != 1 || !strings.Contains(out, `no stream is named "nope"; the spec has users, orders`) {
		t.Errorf("-streams users,nope: status %d\n%s", code, out)
	}
}
