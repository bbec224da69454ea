package connector_test

import (
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// The fan-out keeps the budget busy: in a synctest bubble, where requests
// cost their latency and nothing else, 40 partitions of 25 pages at 20 ms
// with 16 in flight take within 5% of the ideal, every request at the
// latency, 16 at a time. (The benchmark command measures the same on a
// real network and CPU.)
func TestFanoutKeepsTheBudgetBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const partitions, pages, perPage, budget, latency = 40, 25, 10, 16, 20 * time.Millisecond
		api := mockapi.New(mockapi.Config{Records: partitions, Seed: 5, Latency: latency, OrdersPerUser: pages * perPage})
		var requests atomic.Int64
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			api.ServeHTTP(w, r)
		})
		lim := connector.NewLimiter(connector.Limits{InFlight: budget})
		client := &http.Client{Transport: lim.Transport(handlerTransport{h})}
		const base = "http://api.test"
		users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
			Request:   strategies.Request{URL: base + mockapi.PathPageNumber, Client: client},
			Size:      50,
			SizeParam: strategies.Query("per_page"),
			Response: strategies.Shape[mockapi.User]{
				ItemsPath:      "data",
				TotalPagesPath: "total_pages",
			},
		}, newTable[mockapi.User]("users", "id"), paginate.Options[mockapi.User]{})
		orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
			Parent: users,
			Key:    func(u mockapi.User) string { return u.ID },
			Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
				return &strategies.PageNumber[mockapi.Order]{
					Request:   strategies.Request{URL: base + mockapi.OrdersPath(url.PathEscape(u.ID)), Client: client},
					Size:      perPage,
					SizeParam: strategies.Query("per_page"),
					Response: strategies.Shape[mockapi.Order]{
						ItemsPath:      "data",
						TotalPagesPath: "total_pages",
					},
				}, nil
			},
		}, newTable[mockapi.Order]("orders", "id"), paginate.Options[mockapi.Order]{})
		c, err := connector.New(connector.Config{Limiter: lim}, users, orders)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := c.Run(t.Context(), "orders"); err != nil {
			t.Fatal(err)
		}
		wall := time.Since(start)
		ideal := time.Duration(requests.Load()) * latency / budget
		t.Logf("%d requests in %v, ideal %v: %.3fx", requests.Load(), wall, ideal, float64(wall)/float64(ideal))
		if float64(wall) > 1.05*float64(ideal) {
			t.Errorf("%v for %d requests, more than 1.05x the ideal %v", wall, requests.Load(), ideal)
		}
	})
}
