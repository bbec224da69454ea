package connector_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/memory"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/strategies"
)

// A connector of users and, for each user, the user's orders: a child
// stream with one partition per user, all within one budget of 8 requests
// in flight and 200 requests a second to the API's host.
func Example() {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 40, Seed: 1}))
	defer srv.Close()
	lim := connector.NewLimiter(connector.Limits{InFlight: 8, Rate: 200})
	client := lim.Client()
	mark := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

	userSink := memory.New(schema.Must(schema.Derive[mockapi.User]("users", "id")), memory.Config[mockapi.User]{})
	users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: srv.URL + mockapi.PathPageNumber, Client: client},
		Size:      20,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
		Window: strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
	}, userSink, paginate.Options[mockapi.User]{
		HighWater: func(u mockapi.User) string { return mark(u.UpdatedAt) },
		// Page numbers shift when users change: drift detection, for the
		// users stream and the orders' read of the users' list.
		Key: func(u mockapi.User) string { return u.ID },
		Checks: paginate.Checks[mockapi.User]{
			TrackKeys: true,
			Order:     func(a, b mockapi.User) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		},
	})

	orderSink := memory.New(schema.Must(schema.Derive[mockapi.Order]("orders", "id")), memory.Config[mockapi.Order]{})
	orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users,
		Key:    func(u mockapi.User) string { return u.ID },
		Keep:   func(u mockapi.User) mockapi.User { return mockapi.User{ID: u.ID} }, // what Key and Paginator read
		Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
			return &strategies.PageNumber[mockapi.Order]{
				Request:   strategies.Request{URL: srv.URL + mockapi.OrdersPath(url.PathEscape(u.ID)), Client: client},
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response: strategies.Shape[mockapi.Order]{
					ItemsPath:      "data",
					TotalPagesPath: "total_pages",
				},
				Window: strategies.Window[mockapi.Order]{SinceParam: strategies.Query("updated_since")},
			}, nil
		},
	}, orderSink, paginate.Options[mockapi.Order]{HighWater: func(o mockapi.Order) string { return mark(o.UpdatedAt) }})

	c, err := connector.New(connector.Config{Limiter: lim}, users, orders)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Run(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range res.Streams {
		fmt.Printf("%s: %s, %d records", s.Stream, s.Status(), s.Items)
		if s.Parent != "" {
			fmt.Printf(" in %d partitions", s.Partitions.Run)
		}
		fmt.Println()
	}
	fmt.Println(len(userSink.Rows()), "users,", len(orderSink.Rows()), "orders")
	// Output:
	// users: complete, 40 records
	// orders: complete, 1227 records in 40 partitions
	// 40 users, 1227 orders
}
