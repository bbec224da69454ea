package schema_test

import (
	"fmt"
	"time"

	"github.com/pagekit/pagekit/sink/schema"
)

func ExampleDerive() {
	type User struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		UpdatedAt time.Time `json:"updatedAt"`
		Internal  string    `json:"-"`
	}
	users, err := schema.Derive[User]("user", "id")
	if err != nil {
		fmt.Println(err)
		return
	}
	t := users.Table()
	fmt.Println(t.Name, t.PrimaryKey)
	for _, c := range t.Columns {
		fmt.Println(c.Name, c.Type)
	}

	_, err = users.Rows([]User{{ID: "7f3c", Name: "bad \x00 name"}}, nil)
	fmt.Println(err)
	// Output:
	// user [id]
	// id STRING
	// name STRING
	// updatedAt UTC_DATETIME
	// table "user": record 0 (id="7f3c"): column "name": value does not fit its column: text contains a NUL byte: "bad \x00 name"
}
