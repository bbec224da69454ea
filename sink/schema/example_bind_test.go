package schema_test

import (
	"fmt"
	"time"

	"github.com/pagekit/pagekit/sink/schema"
)

// A table declared column by column, as a Connector SDK connector's
// schema() declares it, bound to the struct the API's JSON decodes into.
// Columns match fields by name (here by json tag, and CreatedAt by its
// field name, case aside); fields without a column are left out.
func ExampleBind() {
	type User struct {
		ID        string    `json:"id"`
		Email     string    `json:"email"`
		CreatedAt time.Time // no tag: the column "createdat" matches it
		Notes     string    `json:"notes"` // no column: not stored
	}
	users, err := schema.Bind[User](schema.Table{
		Name:       "user",
		PrimaryKey: []string{"id"},
		Columns: []schema.Column{
			{Name: "id", Type: schema.String},
			{Name: "email", Type: schema.String},
			{Name: "createdat", Type: schema.UTCDatetime},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	row, err := users.Rows([]User{{ID: "u1", Email: "ada@example.com", CreatedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}}, nil)
	for i, c := range users.Table().Columns {
		fmt.Println(c.Name, c.Type, schema.FormatValue(c.Type, row[i]))
	}
	fmt.Println(err)

	_, err = schema.Bind[User](schema.Table{Name: "user", PrimaryKey: []string{"id"},
		Columns: []schema.Column{{Name: "id", Type: schema.String}, {Name: "phone", Type: schema.String}}})
	fmt.Println(err)
	// Output:
	// id STRING "u1"
	// email STRING "ada@example.com"
	// createdat UTC_DATETIME 2024-05-06T07:08:09Z
	// <nil>
	// schema: table "user": column "phone": no field of the record type has this name
}
