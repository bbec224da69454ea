package paginate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pagekit/pagekit/paginate"
)

// locatorAPI serves records "r01", "r02", ... two a page, each page's
// next position a token of the API's generation ("g1-3": generation 1,
// page 3). A token of an older generation has expired, as a query locator
// or a scroll id does after some minutes or a restart of the server; and
// with expireEvery set, the generation moves on every that many pages
// served, so that tokens expire in the middle of a sync too.
type locatorAPI struct {
	mu          sync.Mutex
	records     int
	gen         int
	served      int
	expireEvery int
	since       []string // the Since of each first page asked for
}

func (a *locatorAPI) expire() {
	a.mu.Lock()
	a.gen++
	a.mu.Unlock()
}

func (a *locatorAPI) Fetch(_ context.Context, pos paginate.Position) (paginate.Page[string], error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	page := 1
	if pos.Token != "" {
		g, p, _ := strings.Cut(strings.TrimPrefix(pos.Token, "g"), "-")
		if g != strconv.Itoa(a.gen) {
			return paginate.Page[string]{}, paginate.Permanent(fmt.Errorf("400 INVALID_QUERY_LOCATOR: %w", paginate.ErrPositionExpired))
		}
		page, _ = strconv.Atoi(p)
	} else {
		a.since = append(a.since, pos.Since)
	}
	a.served++
	if a.expireEvery > 0 && a.served%a.expireEvery == 0 {
		defer func() { a.gen++ }()
	}
	var items []string
	for i := 2*page - 1; i <= 2*page && i <= a.records; i++ {
		items = append(items, fmt.Sprintf("r%02d", i))
	}
	if 2*page >= a.records {
		return paginate.Page[string]{Items: items, Stop: paginate.StopNoNextToken}, nil
	}
	return paginate.Page[string]{Items: items, More: true, Next: paginate.Position{Token: fmt.Sprintf("g%d-%d", a.gen, page+1)}}, nil
}

// TestExpiredPositionRestarts: a sync stopped mid-way (MaxPages, as a
// crash leaves it) resumes at a token the API has let expire since; the
// run restarts the sync once from its last completed mark, reads every
// record, says so in its Result and its log, and the next sync goes on
// from the new mark. Before, every later run failed at the dead token.
func TestExpiredPositionRestarts(t *testing.T) {
	ctx := context.Background()
	api := &locatorAPI{records: 10}
	sink := new(paginate.MemorySink[string])
	mark := func(s string) string { return s }
	opts := paginate.Options[string]{Retry: fast, HighWater: mark}

	// A completed sync sets the mark; then a sync stops after 2 pages.
	if _, err := paginate.Run(ctx, api, sink, opts); err != nil {
		t.Fatal(err)
	}
	api.records = 14
	stopped := opts
	stopped.Limits.MaxPages = 2
	res, err := paginate.Run(ctx, api, sink, stopped)
	if err != nil || res.Stop != paginate.StopMaxPages || res.Checkpoint.Position.Token == "" {
		t.Fatalf("stopped run: %v, %+v", err, res)
	}
	dead := res.Checkpoint.Position

	api.expire()
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	res, err = paginate.Run(ctx, api, sink, opts)
	if err != nil || !res.Stop.Complete() {
		t.Fatalf("run after the token expired: %v (stop %v); want a complete sync", err, res.Stop)
	}
	if res.Expired == nil || res.Expired.Position != dead || !errors.Is(res.Expired, paginate.ErrPositionExpired) {
		t.Errorf("Result.Expired = %v, want the fetch of %v that found it expired", res.Expired, dead)
	}
	if !strings.Contains(logs.String(), "position expired") || !strings.Contains(logs.String(), "restart") {
		t.Errorf("the log does not say the sync restarted:\n%s", logs.String())
	}
	if want := []string{"", "r10", "r10"}; fmt.Sprint(api.since) != fmt.Sprint(want) {
		t.Errorf("the syncs started from %q, want %q: the restart starts from the last completed mark", api.since, want)
	}
	if res.Checkpoint.Position != (paginate.Position{Since: "r14"}) {
		t.Errorf("checkpoint %+v, want the next sync from r14", res.Checkpoint.Position)
	}
	if n := len(sink.Items()); n < 14 {
		t.Errorf("the sink holds %d records, want every one of the 14", n)
	}
}

// TestExpiredTwiceSavesNoDeadPosition: an API whose tokens expire faster
// than a sync reads them (every 3 pages): the run restarts once, and when
// the restarted sync meets an expired token too, it fails, with a
// checkpoint that starts the next run from the mark rather than at a
// token that no longer exists.
func TestExpiredTwiceSavesNoDeadPosition(t *testing.T) {
	ctx := context.Background()
	api := &locatorAPI{records: 20, expireEvery: 3}
	store := new(paginate.MemoryStore)
	res, err := paginate.Run(ctx, api, new(paginate.MemorySink[string]), paginate.Options[string]{Retry: fast, Store: store})
	if !errors.Is(err, paginate.ErrPositionExpired) || res.Stop != paginate.StopError || res.Expired == nil {
		t.Fatalf("Run: %v, stop %v, expired %v; want ErrPositionExpired after one restart", err, res.Stop, res.Expired)
	}
	if len(api.since) != 2 {
		t.Errorf("the run started the sync %d times, want twice (one restart)", len(api.since))
	}
	saved, _, _ := store.Load(ctx, "default")
	if !saved.Position.IsStart() || !res.Checkpoint.Position.IsStart() {
		t.Errorf("saved checkpoint %+v, Result's %+v: want both at the start, not at a dead token", saved.Position, res.Checkpoint.Position)
	}
}
