package main

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/sink/schema"
	"github.com/pagekit/pagekit/sink/sqlite"
	"github.com/pagekit/pagekit/strategies"
)

// listProtection measures what protecting a child stream's parent list
// against shifts costs: a sync of users (page number, incremental) and
// their orders (a child stream) into SQLite, with the protection the
// runner turns on by itself (drift detection on the users, on the orders'
// read of the users' list and on each partition, and the keys of syncs in
// progress kept in the database), against the same sync with it off (the
// paginators hidden behind wrappers that do not describe how they read).
// Both run in turn, a full sync and an incremental one each time, from an
// API in-process with no latency, so that the ratio is the protection's
// own cost, the most it can be; behind an API's latency it is less.
func listProtection(ctx context.Context, cfg config) (row, error) {
	users, rounds := 2_000, 7
	if cfg.quick {
		users, rounds = 200, 1
	}
	var wallOn, wallOff, cpuOn, cpuOff []time.Duration
	var reqOn, reqOff int64
	for range rounds {
		for _, protect := range []bool{true, false} {
			cpu := processCPU()
			wall, requests, err := protectedSync(ctx, users, protect)
			if err != nil {
				return row{}, err
			}
			cpu = processCPU() - cpu
			if protect {
				wallOn, cpuOn, reqOn = append(wallOn, wall), append(cpuOn, cpu), requests
			} else {
				wallOff, cpuOff, reqOff = append(wallOff, wall), append(cpuOff, cpu), requests
			}
		}
	}
	// CPU time, the API's and the sync's in this one process, moves less
	// than wall time with other processes on the machine.
	on, off, what := median(cpuOn), median(cpuOff), "CPU"
	if off == 0 {
		on, off, what = median(wallOn), median(wallOff), "wall"
	}
	ratio := float64(on) / float64(off)
	drifted, quiet, err := driftedListCost(ctx, users)
	if err != nil {
		return row{}, err
	}
	return row{
		name:     fmt.Sprintf("connector: list protection, %d users and their orders into SQLite", users),
		measured: fmt.Sprintf("%.2fx unprotected (%s)", ratio, what),
		target:   "<= 1.25x",
		ok:       ratio <= 1.25,
		detail: fmt.Sprintf("full + incremental sync, median of %d: CPU %v vs %v, wall %v vs %v; %d requests vs %d; after a drifted list the next sync sends %d requests, after a quiet one %d",
			rounds, median(cpuOn).Round(time.Millisecond), median(cpuOff).Round(time.Millisecond),
			median(wallOn).Round(time.Millisecond), median(wallOff).Round(time.Millisecond), reqOn, reqOff, drifted, quiet),
	}, nil
}

// protectedSync runs a full sync of users and orders, then an incremental
// one after 20 users changed, into a new SQLite file, and returns the time
// and the requests of the two.
func protectedSync(ctx context.Context, users int, protect bool) (time.Duration, int64, error) {
	api := mockapi.New(mockapi.Config{Records: users, Seed: 9, Events: -1})
	srv := &arrivals{h: api}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c, done, err := protectConnector(ctx, ts.URL, protect)
	if err != nil {
		return 0, 0, err
	}
	defer done()
	start := time.Now()
	if err := syncAll(ctx, c); err != nil {
		return 0, 0, err
	}
	api.Update(20)
	if err := syncAll(ctx, c); err != nil {
		return 0, 0, err
	}
	return time.Since(start), srv.n.Load(), nil
}

// driftedListCost returns the requests of a quiet sync of the orders
// stream that follows a full one whose read of the users' list drifted
// (20 users updated when it asked for its third page), and of one that
// follows a full sync on a quiet API: what the protection asks for when
// it sees a shift, a read of the list again from its starting mark and a
// visit of every partition since.
func driftedListCost(ctx context.Context, users int) (drifted, quiet int64, err error) {
	for _, change := range []bool{true, false} {
		api := mockapi.New(mockapi.Config{Records: users, Seed: 9, Events: -1})
		srv := &arrivals{h: api}
		ts := httptest.NewServer(srv)
		c, done, err := protectConnector(ctx, ts.URL, true)
		if err != nil {
			ts.Close()
			return 0, 0, err
		}
		var once atomic.Bool
		if change {
			srv.before = func(r *http.Request) {
				if r.URL.Path == mockapi.PathPageNumber && r.URL.Query().Get("page") == "3" && once.CompareAndSwap(false, true) {
					api.Update(20)
				}
			}
		}
		err = syncAll(ctx, c, "orders")
		n := srv.n.Load()
		if err == nil {
			err = syncAll(ctx, c, "orders")
		}
		if change {
			drifted = srv.n.Load() - n
		} else {
			quiet = srv.n.Load() - n
		}
		done()
		ts.Close()
		if err != nil {
			return 0, 0, err
		}
	}
	return drifted, quiet, nil
}

func syncAll(ctx context.Context, c *connector.Connector, streams ...string) error {
	res, err := c.Run(ctx, streams...)
	if err == nil && !res.Complete() {
		err = fmt.Errorf("sync not complete: %+v", res)
	}
	return err
}

// protectConnector returns a connector of users and their orders into a new
// SQLite file, with the runner's protection or without.
func protectConnector(ctx context.Context, base string, protect bool) (*connector.Connector, func(), error) {
	dir, err := os.MkdirTemp("", "pagekit-bench-protect")
	if err != nil {
		return nil, nil, err
	}
	db, err := sqlite.Open(filepath.Join(dir, "shop.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	done := func() { db.Close(); os.RemoveAll(dir) }
	us, err := sqlite.New(ctx, db, schema.Must(schema.Derive[mockapi.User]("users", "id")), sqlite.Config[mockapi.User]{})
	if err != nil {
		done()
		return nil, nil, err
	}
	ords, err := sqlite.New(ctx, db, schema.Must(schema.Derive[mockapi.Order]("orders", "id")), sqlite.Config[mockapi.Order]{})
	if err != nil {
		done()
		return nil, nil, err
	}
	hide := func(p *strategies.PageNumber[mockapi.User]) paginate.Paginator[mockapi.User] {
		if protect {
			return p
		}
		return undescribed[mockapi.User]{p}
	}
	hideOrders := func(p *strategies.PageNumber[mockapi.Order]) paginate.Paginator[mockapi.Order] {
		if protect {
			return p
		}
		return undescribed[mockapi.Order]{p}
	}
	mark := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	lim := connector.NewLimiter(connector.Limits{InFlight: 8})
	users := connector.NewStream("users", hide(&strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: base + mockapi.PathPageNumber, Client: lim.Client()},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response:  strategies.Shape[mockapi.User]{ItemsPath: "data", TotalPagesPath: "total_pages"},
		Window:    strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
	}), us, paginate.Options[mockapi.User]{HighWater: func(u mockapi.User) string { return mark(u.UpdatedAt) }, Concurrency: 1})
	orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users,
		Key:    func(u mockapi.User) string { return u.ID },
		Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
			return hideOrders(&strategies.PageNumber[mockapi.Order]{
				Request:   strategies.Request{URL: base + mockapi.OrdersPath(url.PathEscape(u.ID)), Client: lim.Client()},
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response:  strategies.Shape[mockapi.Order]{ItemsPath: "data", TotalPagesPath: "total_pages"},
				Window:    strategies.Window[mockapi.Order]{SinceParam: strategies.Query("updated_since")},
			}), nil
		},
	}, ords, paginate.Options[mockapi.Order]{HighWater: func(o mockapi.Order) string { return mark(o.UpdatedAt) }})
	c, err := connector.New(connector.Config{Limiter: lim}, users, orders)
	if err != nil {
		done()
		return nil, nil, err
	}
	return c, func() { us.Close(); ords.Close(); done() }, nil
}

// undescribed is a page-number paginator that does not describe how it
// reads (paginate.Describer), so the runner turns on no protection for it;
// it keeps the rest (identity, validation, planning), so that only the
// protection differs.
type undescribed[T any] struct{ p *strategies.PageNumber[T] }

func (u undescribed[T]) Fetch(ctx context.Context, pos paginate.Position) (paginate.Page[T], error) {
	return u.p.Fetch(ctx, pos)
}
func (u undescribed[T]) Identity() paginate.Identity { return u.p.Identity() }
func (u undescribed[T]) Validate() error             { return u.p.Validate() }
func (u undescribed[T]) Plan(pos paginate.Position, first paginate.PageInfo) iter.Seq[paginate.Position] {
	return u.p.Plan(pos, first)
}
