package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/sink/parquet"
	"github.com/pagekit/pagekit/sink/sqlite"
)

// shapeAPI serves records of no fixed shape by page number: {"data":
// [...], "total_pages": N}, 10 a page, in the order they were added.
type shapeAPI struct {
	mu   sync.Mutex
	recs []map[string]any
}

func (a *shapeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	const size = 10
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	lo, hi := min((page-1)*size, len(a.recs)), min(page*size, len(a.recs))
	json.NewEncoder(w).Encode(map[string]any{"data": a.recs[lo:hi], "total_pages": (len(a.recs) + size - 1) / size})
}

func (a *shapeAPI) set(i int, field string, v any) {
	a.mu.Lock()
	a.recs[i][field] = v
	a.mu.Unlock()
}

func (a *shapeAPI) add(r map[string]any) {
	a.mu.Lock()
	a.recs = append(a.recs, r)
	a.mu.Unlock()
}

// TestSourceChangesShape syncs records without a Go struct whose fields
// change between syncs into SQLite and Parquet: fields that appear in a
// later sync, on a later page, add columns typed from their values (the
// rows synced before have none there), and a value that no longer fits
// its column fails the sync with the record's key and the field, writing
// nothing of its page.
func TestSourceChangesShape(t *testing.T) {
	api := &shapeAPI{}
	for i := range 25 {
		api.add(map[string]any{"id": fmt.Sprintf("i%02d", i), "n": i, "name": fmt.Sprint("item ", i)})
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "items.yaml")
	y := "streams:\n  - name: items\n    table: {primary_key: [id]}\n    request: {url: \"" + srv.URL + "/items\"}\n" +
		"    paging: {strategy: page_number}\n    response: {items_path: data, total_pages_path: total_pages}\n"
	if err := os.WriteFile(file, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	db, pq := filepath.Join(dir, "items.db"), filepath.Join(dir, "lake")
	sync := func(round int) {
		t.Helper()
		for _, dest := range []string{"sqlite:" + db, "parquet:" + pq} {
			if code, out, stderr := run(t, "sync", file, "-dest", dest); code != 0 {
				t.Fatalf("sync %d into %s: status %d\n%s%s", round, dest, code, out, stderr)
			}
		}
	}
	sync(1)

	// New fields: a list and a fraction on records of the last page, and a
	// nested object on one of the first page.
	for i := 25; i < 32; i++ {
		api.add(map[string]any{"id": fmt.Sprintf("i%02d", i), "n": i, "name": fmt.Sprint("item ", i), "tags": []string{"t"}, "score": 1.5})
	}
	api.set(3, "meta", map[string]any{"color": "red"})
	sync(2)
	sdb, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	want := map[string]string{"id": "TEXT key", "n": "INTEGER", "name": "TEXT", "tags": "TEXT", "score": "REAL", "meta": "TEXT"}
	if diff := cmp.Diff(want, columns(t, sdb, "items")); diff != "" {
		t.Errorf("SQLite columns (-want +got):\n%s", diff)
	}
	var rows, scored, meta int
	if err := sdb.QueryRow(`SELECT count(*), count(score), count(meta) FROM items`).Scan(&rows, &scored, &meta); err != nil {
		t.Fatal(err)
	}
	if rows != 32 || scored != 7 || meta != 1 {
		t.Errorf("SQLite: %d rows, %d with a score, %d with meta; want 32, 7, 1", rows, scored, meta)
	}
	_, prows, err := parquet.ReadTable(t.Context(), parquet.Dir(filepath.Join(pq, "items")))
	if err != nil {
		t.Fatal(err)
	}
	if len(prows) != 32 || prows[3]["meta"] != `{"color":"red"}` || prows[0]["score"] != nil || prows[31]["score"] != 1.5 {
		t.Errorf("Parquet: %d rows; row 3 meta %v, row 0 score %v, row 31 score %v", len(prows), prows[3]["meta"], prows[0]["score"], prows[31]["score"])
	}

	// A value that no longer fits: n, an integer column, gets a fraction.
	api.set(15, "n", 15.5)
	api.set(14, "name", "changed")
	for _, dest := range []string{"sqlite:" + db, "parquet:" + pq} {
		code, out, stderr := run(t, "sync", file, "-dest", dest)
		if code != 1 || !strings.Contains(stderr, `id="i15"`) || !strings.Contains(stderr, `"n"`) || !strings.Contains(stderr, "15.5 is not an integer") ||
			!strings.Contains(stderr, `Declare the type of field "n" under the stream's table.columns`) {
			t.Errorf("sync into %s of a value that does not fit: status %d\n%s%s", dest, code, out, stderr)
		}
	}
	var n int
	var name string
	if err := sdb.QueryRow(`SELECT (SELECT n FROM items WHERE id = 'i15'), (SELECT name FROM items WHERE id = 'i14')`).Scan(&n, &name); err != nil {
		t.Fatal(err)
	}
	if n != 15 || name != "item 14" {
		t.Errorf("after the failed page: i15's n %d, i14's name %q; want 15 and \"item 14\" (nothing of the page written)", n, name)
	}
}
