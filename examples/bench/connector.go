package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// connectorRows measures the connector layer (package connector): a
// fan-out of partitions behind a slow API within one in-flight budget, one
// host's request rate while many streams run, and peak heap against the
// number of parent records.
func connectorRows(ctx context.Context, cfg config) ([]row, error) {
	var out []row
	for _, m := range []func(context.Context, config) (row, error){fanout, hostRate, fanoutMemory, listProtection} {
		r, err := m(ctx, cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// arrivals serves h and counts, and timestamps, the requests it receives.
type arrivals struct {
	h  http.Handler
	n  atomic.Int64
	mu sync.Mutex
	at []time.Time
	// before, when set, is called with each request first.
	before func(r *http.Request)
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.before != nil {
		a.before(r)
	}
	a.n.Add(1)
	a.mu.Lock()
	a.at = append(a.at, time.Now())
	a.mu.Unlock()
	a.h.ServeHTTP(w, r)
}

// nullStore keeps no checkpoint: it stands for a database's state table
// where only the connector's own memory is measured.
type nullStore struct{}

func (nullStore) Load(context.Context, string) (paginate.Checkpoint, bool, error) {
	return paginate.Checkpoint{}, false, nil
}
func (nullStore) Save(context.Context, paginate.Checkpoint) error { return nil }

// count is a sink that counts records.
func count[T any](n *atomic.Int64) paginate.Sink[T] {
	return paginate.SinkFunc[T](func(_ context.Context, items []T) error {
		n.Add(int64(len(items)))
		return nil
	})
}

// fanoutConnector returns a connector of users (pages of 50) and their
// orders (pages of perPage), every request through lim, counting the
// orders into orders.
func fanoutConnector(base string, lim *connector.Limiter, perPage int, orders *atomic.Int64) (*connector.Connector, error) {
	client := lim.Client()
	users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: base + mockapi.PathPageNumber, Client: client, Query: seedQuery()},
		Size:      50,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
	}, count[mockapi.User](new(atomic.Int64)), paginate.Options[mockapi.User]{Store: nullStore{}})
	child := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
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
	}, count[mockapi.Order](orders), paginate.Options[mockapi.Order]{Store: nullStore{}})
	return connector.New(connector.Config{Limiter: lim}, users, child)
}

// fanout syncs the orders of 40 users, 25 pages each, behind a slow API,
// within a budget of 16 requests in flight, and compares the wall time
// with the ideal: every request at the latency, 16 at a time.
func fanout(ctx context.Context, cfg config) (row, error) {
	const budget, perPage = 16, 10
	partitions, pages := 40, 25
	if cfg.quick {
		partitions, pages = 8, 5
	}
	srv := &arrivals{h: mockapi.New(mockapi.Config{Records: partitions, Seed: 5, Latency: cfg.latency, OrdersPerUser: pages * perPage, MaxPerPage: 50})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var orders atomic.Int64
	lim := connector.NewLimiter(connector.Limits{InFlight: budget})
	c, err := fanoutConnector(ts.URL, lim, perPage, &orders)
	if err != nil {
		return row{}, err
	}
	// How busy the budget is: below 16 the layer leaves slots idle; at
	// 16 the time above ideal is each request's own overhead.
	var busy, samples atomic.Int64
	stopS, doneS := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(doneS)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopS:
				return
			case <-t.C:
				busy.Add(int64(lim.Busy()))
				samples.Add(1)
			}
		}
	}()
	start := time.Now()
	res, err := c.Run(ctx, "orders")
	wall := time.Since(start)
	close(stopS)
	<-doneS
	if err != nil {
		return row{}, err
	}
	if want := int64(partitions * pages * perPage); orders.Load() != want || res.Streams[0].Partitions.Complete != partitions {
		return row{}, fmt.Errorf("fan-out synced %d orders in %d partitions, want %d in %d", orders.Load(), res.Streams[0].Partitions.Complete, want, partitions)
	}
	requests := srv.n.Load()
	ideal := time.Duration(requests) * cfg.latency / budget
	ratio := float64(wall) / float64(ideal)
	return row{
		name:     fmt.Sprintf("connector: %d partitions x %d pages at %v, budget %d", partitions, pages, cfg.latency, budget),
		measured: fmt.Sprintf("%.2fx ideal", ratio),
		target:   "<= 1.3x ideal",
		ok:       ratio <= 1.3,
		detail: fmt.Sprintf("%v for %d requests; ideal %v; %.1f of %d slots busy on average", wall.Round(time.Millisecond), requests,
			ideal.Round(time.Millisecond), float64(busy.Load())/float64(max(samples.Load(), 1)), budget),
	}, nil
}

// hostRate runs 20 streams against one host limited to a rate, and finds
// the most requests the server received in any one second.
func hostRate(ctx context.Context, cfg config) (row, error) {
	const streams, limit = 20, 50
	pages := 12 // every stream reads the whole log, in pages of 20
	if cfg.quick {
		pages = 2
	}
	events := pages * 20
	srv := &arrivals{h: mockapi.New(mockapi.Config{Records: 10, Seed: 6, Events: events, Latency: 2 * time.Millisecond})}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	lim := connector.NewLimiter(connector.Limits{InFlight: 64, Rate: limit})
	var ss []*connector.Stream
	for i := range streams {
		ss = append(ss, connector.NewStream(fmt.Sprintf("events%d", i), &strategies.NextToken[mockapi.Event]{
			Request:    strategies.Request{URL: ts.URL + mockapi.PathEvents, Client: lim.Client()},
			Size:       20,
			Response:   strategies.Shape[mockapi.Event]{ItemsPath: "data"},
			TokenPath:  "next_token",
			TokenParam: strategies.Query("next_token"),
		}, count[mockapi.Event](new(atomic.Int64)), paginate.Options[mockapi.Event]{Store: nullStore{}}))
	}
	c, err := connector.New(connector.Config{Limiter: lim}, ss...)
	if err != nil {
		return row{}, err
	}
	start := time.Now()
	if _, err := c.Run(ctx); err != nil {
		return row{}, err
	}
	wall := time.Since(start)
	srv.mu.Lock()
	at := slices.Clone(srv.at)
	srv.mu.Unlock()
	peak := maxInSecond(at)
	avg := 0.0
	if n := len(at); n > 1 {
		avg = float64(n-1) / at[n-1].Sub(at[0]).Seconds()
	}
	return row{
		name:     fmt.Sprintf("connector: %d streams on one host limited to %d/s", streams, limit),
		measured: fmt.Sprintf("at most %d requests in any second", peak),
		target:   fmt.Sprintf("<= %d", limit),
		ok:       peak <= limit,
		detail:   fmt.Sprintf("%d requests in %v, %.1f/s between the first and the last, counted at the server", len(at), wall.Round(time.Millisecond), avg),
	}, nil
}

// maxInSecond returns the most times in any window [t, t+1s).
func maxInSecond(ts []time.Time) int {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// connectorChildFlag makes the command a child that runs the fan-out of
// -url's users and prints its peak heap.
const connectorChildFlag = "-child-connector"

// fanoutMemory runs the fan-out over N and 100N users, one partition of one
// order each, in child processes, and compares their peak heaps: the
// parent list is streamed, so the number of parents costs no memory. The
// sync of N runs 100 times in its process, so that both processes do the
// same work for as long and meet as many collections: a peak is a maximum,
// and a run a hundred times shorter samples a hundred times fewer moments.
func fanoutMemory(ctx context.Context, cfg config) (row, error) {
	small := 1_000
	if cfg.quick {
		small = 100
	}
	exe, err := os.Executable()
	if err != nil {
		return row{}, err
	}
	type peak struct {
		heap int64
		took time.Duration
	}
	measure := func(users, syncs int) (peak, error) {
		ts := httptest.NewServer(mockapi.New(mockapi.Config{Records: users, Seed: 7, OrdersPerUser: 1}))
		defer ts.Close()
		start := time.Now()
		cmd := exec.CommandContext(ctx, exe, connectorChildFlag, "-url", ts.URL, "-users", fmt.Sprint(users), "-syncs", fmt.Sprint(syncs))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return peak{}, fmt.Errorf("child for %d users: %w", users, err)
		}
		p := peak{took: time.Since(start)}
		if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "peak_heap=%d", &p.heap); err != nil {
			return peak{}, fmt.Errorf("child for %d users said %q: %w", users, out, err)
		}
		return p, nil
	}
	ps, err := measure(small, 100)
	if err != nil {
		return row{}, err
	}
	pl, err := measure(100*small, 1)
	if err != nil {
		return row{}, err
	}
	ratio := float64(pl.heap) / float64(ps.heap)
	return row{
		name:     fmt.Sprintf("connector: peak heap, %d / %d parents (x100 syncs), a partition each", 100*small, small),
		measured: fmt.Sprintf("%.2f", ratio),
		target:   "<= 1.3",
		ok:       ratio <= 1.3,
		detail: fmt.Sprintf("peak heap %.1f MiB vs %.1f MiB; %v vs %v",
			mib(pl.heap), mib(ps.heap), pl.took.Round(time.Millisecond), ps.took.Round(time.Millisecond)),
	}, nil
}

// runConnectorChild runs the fan-out of every user at -url, sampling the
// live heap, and prints the peak.
func runConnectorChild(args []string) {
	fs := flag.NewFlagSet("child", flag.ExitOnError)
	base := fs.String("url", "", "mock API base URL")
	users := fs.Int("users", 0, "users expected")
	syncs := fs.Int("syncs", 1, "full syncs to run, one after the other")
	_ = fs.Parse(args)

	var peakHeap atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := int64(s[0].Value.Uint64()); v > peakHeap.Load() {
				peakHeap.Store(v)
			}

			select {
			case <-t.C:
			case <-stop:
				return
			}
		}
	}()
	for range *syncs {
		var orders atomic.Int64
		c, err := fanoutConnector(*base, connector.NewLimiter(connector.Limits{InFlight: 16}), 10, &orders)
		if err != nil {
			log.Fatal(err)
		}
		res, err := c.Run(context.Background(), "orders")
		if err != nil {
			log.Fatal(err)
		}
		if p := res.Streams[0].Partitions; p.Complete != *users || orders.Load() != int64(*users) {
			log.Fatalf("%d partitions complete and %d orders, want %d of each", p.Complete, orders.Load(), *users)
		}
		runtime.KeepAlive(c)
	}
	close(stop)
	<-done
	fmt.Printf("peak_heap=%d\n", peakHeap.Load())
}
