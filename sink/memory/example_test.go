package memory_test

import (
	"context"
	"fmt"

	"github.com/pagekit/pagekit/sink/memory"
	"github.com/pagekit/pagekit/sink/schema"
)

func Example() {
	type Ticket struct {
		ID     int64  `json:"id" pagekit:",pk"`
		Status string `json:"status"`
	}
	// Closed tickets are deleted from the table.
	sink := memory.New(schema.Must(schema.Derive[Ticket]("tickets")), memory.Config[Ticket]{
		Op: func(t Ticket) schema.Op {
			if t.Status == "closed" {
				return schema.Delete
			}
			return schema.Upsert
		},
	})
	ctx := context.Background()
	sink.Write(ctx, []Ticket{{10, "open"}, {9, "open"}, {2, "open"}})
	sink.Write(ctx, []Ticket{{9, "closed"}, {2, "pending"}})
	fmt.Println(sink.Rows())
	// Output: [{2 pending} {10 open}]
}
