package connector_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pagekit/pagekit/connector"
	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// shiftAt returns a wrapper of the mock API that updates n users, once,
// right before it serves the users' page number page: users the list has
// passed move to the end, and the users after each one slide back a place,
// so that one slides onto a page already read.
func shiftAt(e **env, page string, n int) func(http.Handler) http.Handler {
	var once sync.Once
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockapi.PathPageNumber && r.URL.Query().Get("page") == page {
				once.Do(func() { (*e).api.Update(n) })
			}
			h.ServeHTTP(w, r)
		})
	}
}

// unsynced returns the users of the mock whose partition of orders has no
// completed checkpoint: never visited, or left mid-way.
func (e *env) unsynced(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, u := range e.api.Records() {
		cp, found, err := e.orders.Load(context.Background(), "orders/"+u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !found || !cp.Position.IsStart() {
			out = append(out, u.ID)
		}
	}
	return out
}

// protections are the ways the users stream can be declared, for the
// tests of its child's list: drift detection declared, left to the
// runner's defaults, or impossible (a paginator that does not describe
// itself, and no option set), to show what the protection is for.
var protections = []struct {
	name    string
	opts    streamOpts
	protect bool
}{
	{"declared", streamOpts{drift: true}, true},
	{"defaults", streamOpts{}, true},
	{"none", streamOpts{plain: true}, false},
}

// listSync is one sync of the orders stream, in one of the two ways a
// child stream runs: Run, or Partitions with RunPartition for each
// partition, as a job queue does. stopAfter, when not negative, stops
// Partitions with an error once it handed over that many pages of
// partitions; ctx stops Run.
type listSync func(ctx context.Context, c *connector.Connector, stopAfter int) error

var listSyncs = []struct {
	name string
	sync listSync
}{
	{"Run", func(ctx context.Context, c *connector.Connector, _ int) error {
		_, err := c.Run(ctx, "orders")
		return err
	}},
	{"Partitions", func(ctx context.Context, c *connector.Connector, stopAfter int) error {
		batches := 0
		_, err := c.Partitions(ctx, "orders", func(ctx context.Context, parts []connector.Partition) error {
			if batches == stopAfter {
				return errStop
			}
			batches++
			for _, p := range parts {
				if _, err := c.RunPartition(ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
		return err
	}},
}

// drifts counts the drift that the reads of a child's parent list report
// to Config.Observe, by kind; next returns the counts since the last call.
type drifts struct {
	mu    sync.Mutex
	kinds map[paginate.DriftKind]int
}

func (d *drifts) observe(ev connector.Event) {
	if ev.Kind == connector.EventRun && ev.Parents && ev.Run.Kind == paginate.EventDrift {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.kinds == nil {
			d.kinds = make(map[paginate.DriftKind]int)
		}
		d.kinds[ev.Run.Drift.Kind]++
	}
}

func (d *drifts) next() map[paginate.DriftKind]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := d.kinds
	d.kinds = nil
	return k
}

var errStop = errors.New("stopped by the test")

// TestDriftedListReadAgain updates users while the orders stream reads the
// users' list, behind its position, so that the list skips users. With
// drift detection on the users stream, declared or left to the runner's
// defaults, the list sees the drift, keeps its starting mark, and the next
// sync, on a quiet API, reads the list again from there and syncs the
// skipped users' orders. Without it, the list advances its mark past the
// skipped users, and their orders are never synced: the loss the
// protection prevents.
func TestDriftedListReadAgain(t *testing.T) {
	for _, way := range listSyncs {
		for _, pr := range protections {
			t.Run(way.name+"/"+pr.name, func(t *testing.T) {
				var e *env
				e = newEnv(t, mockapi.Config{Records: 100, Seed: 8, OrdersPerUser: 2, Events: -1}, shiftAt(&e, "4", 15))
				o := pr.opts
				o.concurrency = 1
				var d drifts
				c := e.connector(t, connector.Config{Observe: d.observe}, o)
				if err := way.sync(t.Context(), c, -1); err != nil {
					t.Fatalf("sync under change: %v", err)
				}
				kinds := d.next()
				skipped := len(e.unsynced(t))
				t.Logf("the first sync, under change, skipped %d users and saw drift %v", skipped, kinds)
				if skipped == 0 {
					t.Fatal("the change skipped no user: the test needs another seed or shift")
				}
				if pr.protect != (kinds[paginate.DriftDuplicate] > 0) {
					t.Errorf("the first sync saw drift %v, with protection %v", kinds, pr.protect)
				}
				if err := way.sync(t.Context(), c, -1); err != nil {
					t.Fatalf("quiet sync: %v", err)
				}
				lost := e.unsynced(t)
				if pr.protect {
					if len(lost) > 0 {
						t.Errorf("after a quiet sync, %d of %d users have no orders synced: %v", len(lost), e.api.Len(), lost)
					}
					e.checkOrders(t)
				} else if len(lost) == 0 {
					t.Errorf("without drift detection, a quiet sync repaired the skip: the test no longer shows what the protection is for")
				}
			})
		}
	}
}

// TestListResumedAcrossAShift stops the orders stream once the partitions
// of the first three pages of users have completed, so that the child's
// place in the users' list is saved at page 4, with the keys of the users
// read before it; then users behind that place are updated, which slides
// the first users of page 4 onto page 3, and the stream resumes and
// completes, and syncs once more on a quiet API. The resumed list must see
// the shift (an updated user read before the stop comes again), so that
// the next sync reads the list again from its starting mark: every user's
// partition must then be complete. The stop is a cancel of Run, or an
// error from Partitions' add. Without the change, the resumed list must
// see no drift at all: its keys span the stop, so that the next sync
// starts from the new mark and does not read the list again.
func TestListResumedAcrossAShift(t *testing.T) {
	for _, way := range listSyncs {
		for _, change := range []bool{true, false} {
			name := way.name + "/quiet"
			if change {
				name = way.name + "/change"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, mockapi.Config{Records: 100, Seed: 8, OrdersPerUser: 2, Events: -1}, nil)
				lim := connector.NewLimiter(connector.Limits{InFlight: 1})
				ctx, cancel := context.WithCancel(t.Context())
				done := 0
				var d drifts
				cfg := connector.Config{Limiter: lim, Runs: 1, Observe: func(ev connector.Event) {
					d.observe(ev)
					if ev.Kind == connector.EventRun && ev.Partition != "" && ev.Run.Kind == paginate.EventDone {
						if done++; done == 30 {
							cancel()
						}
					}
				}}
				c := e.connector(t, cfg, streamOpts{concurrency: 1})
				if err := way.sync(ctx, c, 3); err == nil {
					t.Fatal("the first sync was not stopped")
				}
				if n := len(e.unsynced(t)); n != 70 {
					t.Fatalf("the stopped sync left %d users unsynced, want 70", n)
				}
				if change {
					e.api.Update(15)
				}
				d.next()
				if err := way.sync(t.Context(), c, -1); err != nil {
					t.Fatalf("resumed sync: %v", err)
				}
				kinds := d.next()
				skipped := len(e.unsynced(t))
				t.Logf("the resumed sync skipped %d users, and saw drift %v", skipped, kinds)
				switch {
				case !change && len(kinds) > 0:
					t.Errorf("a resumed list on a quiet API saw drift %v: its keys did not span the stop", kinds)
				case change && skipped == 0:
					t.Fatal("the change skipped no user: the test needs another seed or shift")
				case change && kinds[paginate.DriftDuplicate] == 0:
					t.Errorf("the resumed list saw drift %v, want the updated users read before the stop seen again", kinds)
				}
				e.api.Update(1) // the quiet sync has a mark to start from
				if err := way.sync(t.Context(), c, -1); err != nil {
					t.Fatalf("quiet sync: %v", err)
				}
				if lost := e.unsynced(t); len(lost) > 0 {
					t.Errorf("after a quiet sync, %d of %d users have no orders synced: %v", len(lost), e.api.Len(), lost)
				}
				e.checkOrders(t)
			})
		}
	}
}

// TestUnprotectedListWarns declares a users stream that reads by page
// number into a sink that knows no key, with no Options.Key: neither the
// users stream nor the orders' read of the users' list can see a shift,
// and both results must say so, as the runner's warnings.
func TestUnprotectedListWarns(t *testing.T) {
	e := newEnv(t, mockapi.Config{Records: 20, Seed: 8, OrdersPerUser: 1, Events: -1}, nil)
	users := connector.NewStream("users", &strategies.PageNumber[mockapi.User]{
		Request:   strategies.Request{URL: e.url + mockapi.PathPageNumber},
		Size:      10,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[mockapi.User]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
		},
		Window: strategies.Window[mockapi.User]{SinceParam: strategies.Query("updated_since")},
	}, &paginate.MemorySink[mockapi.User]{}, paginate.Options[mockapi.User]{
		HighWater: func(u mockapi.User) string { return u.UpdatedAt.UTC().Format(sinceLayout) },
	})
	orders := connector.NewChild("orders", connector.ChildOf[mockapi.User, mockapi.Order]{
		Parent: users,
		Key:    func(u mockapi.User) string { return u.ID },
		Paginator: func(u mockapi.User) (paginate.Paginator[mockapi.Order], error) {
			return &strategies.PageNumber[mockapi.Order]{
				Request:   strategies.Request{URL: e.url + mockapi.OrdersPath(url.PathEscape(u.ID))},
				Size:      50,
				SizeParam: strategies.Query("per_page"),
				Response:  strategies.Shape[mockapi.Order]{ItemsPath: "data", TotalPagesPath: "total_pages"},
			}, nil
		},
	}, e.orders, paginate.Options[mockapi.Order]{})
	c, err := connector.New(connector.Config{}, users, orders)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"users", "orders"} {
		r, _ := res.Stream(name)
		if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "no key is known") {
			t.Errorf("%s: warnings %q, want one that says no key is known", name, r.Warnings)
		}
	}
}

// TestListOfOtherSettings stops a sync of the orders mid-list (30 users'
// partitions done), then syncs with the users stream's page size changed:
// the child's saved place in the users' list is of other settings. A store
// that restarts streams, as a platform's does, starts the list over and
// every user's orders are synced (the child's list stores once hid
// paginate.RestartingStore, and every later sync failed with
// ErrCheckpointMismatch). Any other store fails with a *MismatchError
// that says it is the parent's list whose settings changed, not the
// child's own.
func TestListOfOtherSettings(t *testing.T) {
	for _, restarts := range []bool{true, false} {
		for _, way := range listSyncs {
			t.Run(fmt.Sprintf("%s/restarts=%v", way.name, restarts), func(t *testing.T) {
				e := newEnv(t, mockapi.Config{Records: 100, Seed: 8, OrdersPerUser: 2, Events: -1}, nil)
				e.orders.restarts = restarts
				lim := connector.NewLimiter(connector.Limits{InFlight: 1})
				ctx, cancel := context.WithCancel(t.Context())
				done := 0
				cfg := connector.Config{Limiter: lim, Runs: 1, Observe: func(ev connector.Event) {
					if ev.Kind == connector.EventRun && ev.Partition != "" && ev.Run.Kind == paginate.EventDone {
						if done++; done == 30 {
							cancel()
						}
					}
				}}
				if err := way.sync(ctx, e.connector(t, cfg, streamOpts{concurrency: 1}), 3); err == nil {
					t.Fatal("the first sync was not stopped")
				}
				if n := len(e.unsynced(t)); n != 70 {
					t.Fatalf("the stopped sync left %d users unsynced, want 70", n)
				}
				c := e.connector(t, connector.Config{Limiter: lim, Runs: 1}, streamOpts{concurrency: 1, perPage: 20})
				err := way.sync(t.Context(), c, -1)
				if !restarts {
					var me *paginate.MismatchError
					if !errors.As(err, &me) {
						t.Fatalf("the sync with the users' new page size: %v, want a *paginate.MismatchError", err)
					}
					for _, want := range []string{`"orders"`, `list of parents`, `"users"`} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q does not say %s", err, want)
						}
					}
					return
				}
				if err != nil {
					t.Fatalf("the sync with the users' new page size: %v", err)
				}
				if lost := e.unsynced(t); len(lost) > 0 {
					t.Errorf("%d of %d users have no orders synced: %v", len(lost), e.api.Len(), lost)
				}
				e.checkOrders(t)
			})
		}
	}
}

// TestReadsAgain checks that a run says when the sync it completed drifted
// and keeps its starting mark, so that people know the next sync reads
// again what a shift slid past: the orders' list, shifted under the first
// sync, reports ReadsAgain, and the quiet sync after it, which completes
// every partition, does not.
func TestReadsAgain(t *testing.T) {
	var e *env
	e = newEnv(t, mockapi.Config{Records: 100, Seed: 8, OrdersPerUser: 2, Events: -1}, shiftAt(&e, "4", 15))
	c := e.connector(t, connector.Config{}, streamOpts{concurrency: 1})
	for i, want := range []bool{true, false} {
		res, err := c.Run(t.Context(), "orders")
		if err != nil {
			t.Fatalf("sync %d: %v", i+1, err)
		}
		r := res.Streams[0]
		if r.ReadsAgain != want || !r.Complete() {
			t.Errorf("sync %d: ReadsAgain %v, complete %v, after %d drifts and %d users unsynced; want ReadsAgain %v",
				i+1, r.ReadsAgain, r.Complete(), r.Drifts, len(e.unsynced(t)), want)
		}
	}
	if lost := e.unsynced(t); len(lost) > 0 {
		t.Errorf("after a quiet sync, %d users have no orders synced", len(lost))
	}
}
