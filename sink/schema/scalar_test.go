package schema_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pagekit/pagekit/sink/schema"
)

// Bare values are records of a one-column table: the value is the column
// and the key.
func TestScalarRecords(t *testing.T) {
	m, err := schema.Derive[string]("repositories")
	if err != nil {
		t.Fatal(err)
	}
	want := schema.Table{Name: "repositories", PrimaryKey: []string{"value"}, Columns: []schema.Column{{Name: "value", Type: schema.String}}}
	if diff := cmp.Diff(want, m.Table()); diff != "" {
		t.Errorf("Derive[string] (-want +got):\n%s", diff)
	}
	rows, err := m.Rows([]string{"library/go", "library/alpine"}, nil)
	if err != nil || len(rows) != 2 || rows[0].Str != "library/go" || rows[1].Str != "library/alpine" {
		t.Errorf("Rows: %+v, %v", rows, err)
	}
	if _, err := m.Rows([]string{""}, nil); !errors.Is(err, schema.ErrMissingKey) {
		t.Errorf("an empty string key: %v, want ErrMissingKey", err)
	}

	named, err := schema.Derive[int64]("ids", "id")
	if err != nil || named.Table().Columns[0] != (schema.Column{Name: "id", Type: schema.Long}) {
		t.Fatalf("Derive[int64] with a key name: %+v, %v", named.Table(), err)
	}
	if rows, err := named.Rows([]int64{0, 9007199254740993}, nil); err != nil || rows[1].Int != 9007199254740993 {
		t.Errorf("Rows of int64: %+v, %v", rows, err)
	}
	for _, f := range []func() error{
		func() error { _, err := schema.Derive[float64]("f"); return err },
		func() error { _, err := schema.Derive[bool]("b"); return err },
		func() error { _, err := schema.Derive[json.Number]("n"); return err },
		func() error { _, err := schema.Derive[time.Time]("t"); return err },
	} {
		if err := f(); err != nil {
			t.Errorf("Derive of a scalar: %v", err)
		}
	}

	bound, err := schema.Bind[string](schema.Table{Name: "tags", PrimaryKey: []string{"tag"}, Columns: []schema.Column{{Name: "tag", Type: schema.String}}})
	if err != nil {
		t.Fatal(err)
	}
	if rows, err := bound.Rows([]string{"v1"}, nil); err != nil || rows[0].Str != "v1" {
		t.Errorf("Bind[string] Rows: %+v, %v", rows, err)
	}
	_, err = schema.Bind[string](schema.Table{Name: "tags", PrimaryKey: []string{"tag"},
		Columns: []schema.Column{{Name: "tag", Type: schema.String}, {Name: "other", Type: schema.String}}})
	if err == nil || !strings.Contains(err.Error(), "exactly one column") {
		t.Errorf("Bind[string] to two columns: %v", err)
	}
	if _, err := schema.Derive[string]("t", "a", "b"); err == nil {
		t.Error("Derive[string] with a two-column key: no error")
	}
	if _, err := schema.Bind[string](schema.Table{Name: "t", PrimaryKey: []string{"n"}, Columns: []schema.Column{{Name: "n", Type: schema.Long}}}); err == nil {
		t.Error("Bind[string] to a LONG column: no error")
	}
}
