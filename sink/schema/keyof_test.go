package schema_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pagekit/pagekit/sink/schema"
)

func TestKeyOf(t *testing.T) {
	type order struct {
		Org  int64  `json:"org" pagekit:",pk"`
		ID   string `json:"id" pagekit:",pk"`
		Note string `json:"note"`
	}
	type user struct {
		ID   string `json:"id" pagekit:",pk"`
		Name string `json:"name"`
	}
	orders := schema.Must(schema.Derive[order]("orders"))
	users := schema.Must(schema.Derive[*user]("users"))
	rows := schema.Must(schema.Bind[map[string]any](schema.Table{Name: "m", PrimaryKey: []string{"id"},
		Columns: []schema.Column{{Name: "id", Type: schema.Long}}}))
	got := []string{
		orders.KeyOf(order{Org: 4, ID: "7f3c", Note: "x"}),
		orders.KeyOf(order{Org: 4, ID: "7f3d"}),
		users.KeyOf(&user{ID: "u1"}),
		users.KeyOf(nil),
		users.KeyOf(&user{}),
		rows.KeyOf(map[string]any{"id": 12}),
		rows.KeyOf(map[string]any{}),
	}
	want := []string{`org=4, id="7f3c"`, `org=4, id="7f3d"`, "u1", "", "", "id=12", ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("KeyOf (-want +got):\n%s", diff)
	}
}
