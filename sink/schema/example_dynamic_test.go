package schema_test

import (
	"encoding/json"
	"fmt"

	"github.com/pagekit/pagekit/sink/schema"
)

func ExampleDynamic() {
	users, err := schema.NewDynamic(schema.Table{Name: "user", PrimaryKey: []string{"id"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	var page []schema.Record
	if err := json.Unmarshal([]byte(`[
		{"id": "a1", "age": 41, "tags": ["x"], "updatedAt": "2024-05-01T10:00:00Z"},
		{"id": "b2", "age": null, "vip": true}
	]`), &page); err != nil {
		fmt.Println(err)
		return
	}
	added, err := users.Grow(page) // a sink would be reopened with users.Mapping() now
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("added:", added)

	// A value that no longer fits its column names the record and the field.
	var later []schema.Record
	json.Unmarshal([]byte(`[{"id": "c3", "age": 41.5}]`), &later)
	_, err = users.Mapping().Rows(later, nil)
	fmt.Println(err)
	// Output:
	// added: [{age LONG} {tags JSON} {updatedAt UTC_DATETIME} {vip BOOLEAN}]
	// table "user": record 0 (id="c3"): column "age": value does not fit its column: 41.5 is not an integer
}
