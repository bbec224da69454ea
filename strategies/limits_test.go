package strategies_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// tiny is a small record, so that a page of many empty records costs
// what the runner makes of them, not what the records hold.
type tiny struct {
	ID string `json:"id"`
	N  int    `json:"n"`
}

// hostileBody is a response body generated on the fly: prefix, then fill
// repeated up to size bytes in all, then suffix.
type hostileBody struct {
	prefix, fill, suffix string
	size                 int
}

func (b hostileBody) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(b.prefix)
	n := b.size - len(b.prefix) - len(b.suffix)
	chunk := strings.Repeat(b.fill, max(1, (32<<10)/len(b.fill)))
	for n >= len(chunk) {
		if _, err := bw.WriteString(chunk); err != nil {
			return // the client gave up on the body: that is the point
		}
		n -= len(chunk)
	}
	bw.WriteString(chunk[:n/len(b.fill)*len(b.fill)])
	bw.WriteString(b.suffix)
	bw.Flush()
}

// wide is a record of the mock API's size: eight strings, 128 bytes.
type wide struct {
	ID, Name, Email, Address, Company, Job, CreatedAt, UpdatedAt string
}

// nested is a record with a list of records, as an order has its lines.
type nested struct {
	Items []wide `json:"items"`
}

// huge is a record of a kilobyte, as a struct of many fields is.
type huge struct {
	ID   string
	Rest [126]int64
}

// memoryCases are the hostile pages of issue 11 and 22, each a legal size
// (at most the default body limit) and each to end in a clear error, or in
// a page, within the memory bound: memoryBound, or bound when set.
var memoryCases = []struct {
	name   string
	body   hostileBody
	want   error  // nil: the page is read
	record string // the record type: tiny (the default), wide, huge or map
	bound  int
}{
	// A page's decoded records take at most about 16 times its body, or
	// 16 MiB for a small body, whatever the record type.
	{"4 MiB of empty records into 128-byte records", hostileBody{`{"data":[{}`, `,{}`, `]}`, 4 << 20}, strategies.ErrTooManyItems, "wide", 16 * 4 << 20},
	{"4 MiB of empty records into 1 KiB records", hostileBody{`{"data":[{}`, `,{}`, `]}`, 4 << 20}, strategies.ErrTooManyItems, "huge", 16 * 4 << 20},
	{"4 MiB of empty records into maps", hostileBody{`{"data":[{}`, `,{}`, `]}`, 4 << 20}, strategies.ErrTooManyItems, "map", 16 * 4 << 20},
	{"4 MiB of empty records nested in one record's list", hostileBody{`{"data":[{"items":[{}`, `,{}`, `]}]}`, 4 << 20}, strategies.ErrTooManyItems, "nested", 16 * 4 << 20},
	{"4 MiB of one-field records into maps", hostileBody{`{"data":[{"a":1}`, `,{"a":1}`, `]}`, 4 << 20}, strategies.ErrTooManyItems, "map", 16 * 4 << 20},

	{"4 MiB of empty records", hostileBody{`{"data":[{}`, `,{}`, `]}`, 4 << 20}, strategies.ErrTooManyItems, "", 0},
	{"64 MiB of empty records", hostileBody{`{"data":[{}`, `,{}`, `]}`, 64 << 20}, strategies.ErrTooManyItems, "", 0},
	{"64 MiB of empty arrays", hostileBody{`[[]`, `,[]`, `]`, 64 << 20}, strategies.ErrBadJSON, "", 0},
	{"nesting bomb in the records", hostileBody{`{"data":`, `[`, ``, 64 << 20}, strategies.ErrBadJSON, "", 0},
	{"nesting bomb in a skipped key", hostileBody{`{"x":`, `{"a":`, ``, 64 << 20}, strategies.ErrBadJSON, "", 0},
	{"64 MiB of white space", hostileBody{``, ` `, ``, 64 << 20}, strategies.ErrNotJSON, "", 0},
	{"64 MiB of white space between tokens", hostileBody{`{"data":[`, "\n\t ", `]}`, 64 << 20}, nil, "", 0},
	{"100,000 records, the default MaxItems", hostileBody{`{"data":[{"n":1}`, `,{"n":1}`, `]}`, 1 + len(`{"data":[`) + 100_000*len(`,{"n":1}`) + len(`]}`)}, nil, "", 0},
	{"a million records", hostileBody{`{"data":[{"n":1}`, `,{"n":1}`, `]}`, 1 + len(`{"data":[`) + 1_000_000*len(`,{"n":1}`) + len(`]}`)}, strategies.ErrTooManyItems, "", 0},
}

// memoryBound is what a page of the cases above may add to the mapped
// memory of the process that reads it: for a 24-byte record type, the
// documented bound (docs/security.md) is about 2.25 × 1,000,000 × 24
// bytes = 54 MB of live records at the item limit, which the collector
// lets grow by half again before it runs (the child runs with GOGC=50),
// plus the runtime's rounding and the test's own server. Before the item
// limit and the one-record-at-a-time decoder, these pages took from 185
// MiB to over a GiB.
const memoryBound = 160 << 20

const childEnv = "PAGEKIT_MEMORY_CHILD"

// TestHostileBodiesMemory reads each hostile page in a child process that
// runs with a memory limit and a watchdog, so that a regression fails this
// test instead of the machine, and checks the error and the memory the
// child's heap grew by (the runtime's mapped memory, which only grows, so
// it is the high-water mark).
func TestHostileBodiesMemory(t *testing.T) {
	if name := os.Getenv(childEnv); name != "" {
		memoryChild(t, name)
		return
	}
	if testing.Short() {
		t.Skip("reads 300 MiB of hostile bodies")
	}
	for _, tc := range memoryCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostileBodiesMemory$", "-test.v")
			cmd.Env = append(os.Environ(), childEnv+"="+tc.name, "GOMEMLIMIT=512MiB", "GOGC=50")
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("the child ran out of time (a decoder quadratic in white space?):\n%s", tail(out))
			}
			if err != nil {
				t.Fatalf("child: %v\n%s", err, tail(out))
			}
			peak, took := -1, ""
			for _, line := range strings.Split(string(out), "\n") {
				if s, ok := strings.CutPrefix(strings.TrimSpace(line), "heap grew by "); ok {
					f := strings.Fields(s)
					peak, _ = strconv.Atoi(f[0])
					took = f[len(f)-1]
				}
			}
			if peak < 0 {
				t.Fatalf("the child did not report its memory:\n%s", tail(out))
			}
			t.Logf("heap grew by %.1f MiB; the fetch took %s", float64(peak)/(1<<20), took)
			bound := memoryBound
			if tc.bound > 0 {
				bound = tc.bound
			}
			if peak > bound {
				t.Errorf("heap grew by %d MiB, over the bound of %d MiB", peak>>20, bound>>20)
			}
		})
	}
}

func tail(out []byte) string {
	if len(out) > 4000 {
		out = out[len(out)-4000:]
	}
	return string(out)
}

// memoryChild is the child's side: serve the body, fetch it, report.
func memoryChild(t *testing.T, name string) {
	i := -1
	for j, tc := range memoryCases {
		if tc.name == name {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("no case %q", name)
	}
	tc := memoryCases[i]
	srv := httptest.NewServer(tc.body)
	defer srv.Close()

	// A watchdog: well past the bound, stop before the machine suffers.
	const hardCap = 1 << 30
	debug.SetMemoryLimit(512 << 20)
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if m := mappedMemory(); m > hardCap {
					fmt.Printf("FAIL: %d MiB mapped, over the hard cap\n", m>>20)
					os.Exit(3)
				}
			}
		}
	}()

	switch tc.record {
	case "wide":
		fetchMemory[wide](t, tc.body, srv.URL, tc.want)
	case "huge":
		fetchMemory[huge](t, tc.body, srv.URL, tc.want)
	case "map":
		fetchMemory[map[string]any](t, tc.body, srv.URL, tc.want)
	case "nested":
		fetchMemory[nested](t, tc.body, srv.URL, tc.want)
	default:
		fetchMemory[tiny](t, tc.body, srv.URL, tc.want)
	}
}

// fetchMemory fetches the page at url into records of type T, and prints
// how much the memory the runtime mapped grew, the high-water mark of the
// heap.
func fetchMemory[T any](t *testing.T, body hostileBody, url string, want error) {
	p := &strategies.PageNumber[T]{
		Request:  strategies.Request{URL: url + "/x"},
		Response: strategies.Shape[T]{ItemsPath: "data"},
	}
	if strings.HasPrefix(body.prefix, "[") {
		p.Response.ItemsPath = ""
	}
	// Warm up: the first request sets up the client and server.
	warm := httptest.NewServer(hostileBody{`{"data":[]}`, " ", "", 11})
	if _, err := (&strategies.PageNumber[T]{
		Request:  strategies.Request{URL: warm.URL},
		Response: strategies.Shape[T]{ItemsPath: "data"},
	}).Fetch(context.Background(), paginate.Position{}); err != nil {
		t.Fatal(err)
	}
	warm.Close()
	runtime.GC()
	before := mappedMemory()

	start := time.Now()
	page, err := p.Fetch(context.Background(), paginate.Position{Page: 7})
	grew := mappedMemory() - before
	fmt.Printf("heap grew by %d bytes, in %v\n", grew, time.Since(start))
	switch {
	case want == nil && err != nil:
		t.Fatalf("Fetch: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("Fetch error = %v, want %v", err, want)
	case want != nil && !paginate.IsPermanent(err):
		t.Fatalf("Fetch error %v is not permanent: a retry would read the page again", err)
	case want != nil && !strings.Contains(err.Error(), "page=7"):
		t.Fatalf("Fetch error %q does not name the page", err)
	}
	if err != nil && len(err.Error()) > 2000 {
		t.Errorf("error of %d bytes: it should quote the body's start only", len(err.Error()))
	}
	fmt.Printf("%d records; error: %.300v\n", len(page.Items), err)
}

// mappedMemory returns the memory the Go runtime has mapped, released
// pages included: it never shrinks by much, so it is the high-water mark
// of the heap.
func mappedMemory() int {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestSpaceRunsOutsideStrings checks that long runs of white space between
// tokens are read quickly and change nothing, and that white space inside
// strings is kept, escapes and all.
func TestSpaceRunsOutsideStrings(t *testing.T) {
	spaces := strings.Repeat(" ", 100)
	body := "{\"data\" :\n" + spaces + "[{\"id\":\"a" + spaces + "b\\\"" + spaces + "\\\\\"," + spaces + "\"n\"\t:\r\n" + spaces + "1}" + spaces + "]" + spaces + "}" + spaces
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// One byte a write, so that every state of the reader meets a
		// read boundary.
		for i := range len(body) {
			w.Write([]byte{body[i]})
			if f, ok := w.(http.Flusher); ok && i%7 == 0 {
				f.Flush()
			}
		}
	}))
	defer srv.Close()
	p := &strategies.PageNumber[tiny]{
		Request:  strategies.Request{URL: srv.URL},
		Response: strategies.Shape[tiny]{ItemsPath: "data"},
	}
	page, err := p.Fetch(context.Background(), paginate.Position{})
	if err != nil {
		t.Fatal(err)
	}
	want := tiny{ID: "a" + spaces + "b\"" + spaces + "\\", N: 1}
	if len(page.Items) != 1 || page.Items[0] != want {
		t.Errorf("items = %+v, want [%+v]", page.Items, want)
	}
}

// TestItemLimit checks Limits.MaxItems: a page at the limit is read, one
// past it is a permanent error naming the request, and a negative limit
// reads any number.
func TestItemLimit(t *testing.T) {
	body := func(n int) string {
		return `{"data":[` + strings.TrimSuffix(strings.Repeat(`{"n":1},`, n), ",") + `]}`
	}
	tests := []struct {
		max, n int
		want   error
	}{
		{3, 3, nil},
		{3, 4, strategies.ErrTooManyItems},
		{-1, 5000, nil},
		{0, 5000, nil},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(body(tt.n)))
		}))
		p := &strategies.PageNumber[tiny]{
			Request:  strategies.Request{URL: srv.URL},
			Limits:   strategies.Limits{MaxItems: tt.max},
			Response: strategies.Shape[tiny]{ItemsPath: "data"},
		}
		page, err := p.Fetch(context.Background(), paginate.Position{Page: 3})
		srv.Close()
		switch {
		case tt.want == nil && (err != nil || len(page.Items) != tt.n):
			t.Errorf("MaxItems %d, %d records: %d items, %v", tt.max, tt.n, len(page.Items), err)
		case tt.want != nil && (!errors.Is(err, tt.want) || !paginate.IsPermanent(err) || !strings.Contains(err.Error(), "page=3")):
			t.Errorf("MaxItems %d, %d records: error %v, want a permanent %v naming page=3", tt.max, tt.n, err, tt.want)
		}
	}
}

// TestMaxDecoded checks Limits.MaxDecoded: a fixed budget holds the records
// and the values nested in them that fit in it and fails the page past
// them; by default a page may take 16 times its body, and at least 16 MiB,
// so that ordinary pages of wide records, or of records with lists, are
// read and a page of empty ones into wide records, or into a record's
// list, is not; a negative value reads any page.
func TestMaxDecoded(t *testing.T) {
	records := func(n int, rec string) string {
		return `{"data":[` + strings.TrimSuffix(strings.Repeat(rec+",", n), ",") + `]}`
	}
	fetch := func(t *testing.T, body string, maxDecoded int64, read func(r strategies.Request, l strategies.Limits) (int, error)) (int, error) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
		defer srv.Close()
		return read(strategies.Request{URL: srv.URL}, strategies.Limits{MaxDecoded: maxDecoded})
	}
	readTiny := func(r strategies.Request, l strategies.Limits) (int, error) {
		page, err := (&strategies.PageNumber[tiny]{Request: r, Limits: l, Response: strategies.Shape[tiny]{ItemsPath: "data"}}).Fetch(context.Background(), paginate.Position{Page: 3})
		return len(page.Items), err
	}
	readHuge := func(r strategies.Request, l strategies.Limits) (int, error) {
		page, err := (&strategies.PageNumber[huge]{Request: r, Limits: l, Response: strategies.Shape[huge]{ItemsPath: "data"}}).Fetch(context.Background(), paginate.Position{Page: 3})
		return len(page.Items), err
	}
	readWide := func(r strategies.Request, l strategies.Limits) (int, error) {
		page, err := (&strategies.PageNumber[wide]{Request: r, Limits: l, Response: strategies.Shape[wide]{ItemsPath: "data"}}).Fetch(context.Background(), paginate.Position{Page: 3})
		return len(page.Items), err
	}
	readNested := func(r strategies.Request, l strategies.Limits) (int, error) {
		page, err := (&strategies.PageNumber[nested]{Request: r, Limits: l, Response: strategies.Shape[nested]{ItemsPath: "data"}}).Fetch(context.Background(), paginate.Position{Page: 3})
		return len(page.Items), err
	}
	lines := func(n int, line string) string {
		return `{"items":[` + strings.TrimSuffix(strings.Repeat(line+",", n), ",") + `]}`
	}
	const mock = `{"ID":"0b6d4c6e-3d7f-4c2b-9a8e-2f1f6d2b9c01","Name":"Ada Lovelace","Email":"ada@example.com","Address":"12 Example Street","Company":"Acme","Job":"Engineer","CreatedAt":"2024-01-01T00:00:00Z","UpdatedAt":"2024-06-01T00:00:00Z"}`
	for _, tc := range []struct {
		name       string
		body       string
		maxDecoded int64
		read       func(strategies.Request, strategies.Limits) (int, error)
		want       int    // records read, when no error is wanted
		wantErr    string // a part of the error's text
	}{
		{"fixed budget, records that fit", records(41, `{"n":1}`), 41 * 24, readTiny, 41, ""},
		{"fixed budget, one record more", records(42, `{"n":1}`), 41 * 24, readTiny, 0, "more than 41 records of 24 bytes would take more than 984 bytes decoded (Limits.MaxDecoded)"},
		{"default, 100,000 records of the mock API's size", records(100_000, mock), 0, readWide, 100_000, ""},
		{"default, 16,000 empty records of a kilobyte", records(16_000, `{}`), 0, readHuge, 16_000, ""},
		{"default, 20,000 empty records of a kilobyte", records(20_000, `{}`), 0, readHuge, 0, "times the"},
		{"no limit, 20,000 empty records of a kilobyte", records(20_000, `{}`), -1, readHuge, 20_000, ""},

		// What the records' own lists take counts too: each element of a
		// []wide takes 256 bytes (twice its size, for the list's growth).
		{"fixed budget, nested lists that fit", records(1, lines(3, `{}`)), 24 + 3*256, readNested, 1, ""},
		{"fixed budget, one nested element more", records(1, lines(4, `{}`)), 24 + 3*256, readNested, 0,
			"4 list elements of up to 256 bytes nested in the records (decoded into strategies_test.nested), with room for 0 records of 24 bytes, would take more than 792 bytes decoded (Limits.MaxDecoded)"},
		{"default, 30,000 records of three lines of the mock API's size", records(30_000, lines(3, mock)), 0, readNested, 30_000, ""},
		{"default, 100,000 empty lines in one record", records(1, lines(100_000, `{}`)), 0, readNested, 0, "list elements of up to 256 bytes nested in the records"},
		{"no limit, 100,000 empty lines in one record", records(1, lines(100_000, `{}`)), -1, readNested, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := fetch(t, tc.body, tc.maxDecoded, tc.read)
			switch {
			case tc.wantErr == "" && (err != nil || n != tc.want):
				t.Errorf("%d records, %v; want %d", n, err, tc.want)
			case tc.wantErr != "" && (!errors.Is(err, strategies.ErrTooManyItems) || !paginate.IsPermanent(err) ||
				!strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "page=3")):
				t.Errorf("error %v; want a permanent ErrTooManyItems naming page=3 and saying %q", err, tc.wantErr)
			}
		})
	}
}
