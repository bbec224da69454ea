package mockapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// statuses serves n requests for target and returns their statuses.
func statuses(t *testing.T, h http.Handler, target string, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = get(t, h, target).Code
	}
	return out
}

func count(codes []int, code int) (n int) {
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Config{Seed: 1, Latency: 20 * time.Millisecond})
		start := time.Now()
		mustGet(t, s, "/pagination/page_number")
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Errorf("a request with Latency 20ms took %v", d)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Seed: 1, Latency: 10 * time.Millisecond, LatencyJitter: 30 * time.Millisecond}
		delays := func() []time.Duration {
			s := New(cfg)
			var out []time.Duration
			for range 50 {
				start := time.Now()
				mustGet(t, s, "/pagination/page_number")
				out = append(out, time.Since(start))
			}
			return out
		}
		a, b := delays(), delays()
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("same seed, different delays (-a +b):\n%s", diff)
		}
		for _, d := range a {
			if d < 10*time.Millisecond || d >= 40*time.Millisecond {
				t.Errorf("delay %v outside [10ms, 40ms)", d)
			}
		}
		if slices.Min(a) == slices.Max(a) {
			t.Errorf("LatencyJitter gave every request the same delay %v", a[0])
		}
	})
}

// TestLatencyCancel checks that a client that gives up during the latency
// frees the handler at once, and gets nothing written.
func TestLatencyCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(Config{Latency: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			s.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, "/pagination/page_number", nil))
			close(done)
		}()
		time.Sleep(time.Second)
		cancel()
		<-done
		if w.Body.Len() != 0 || w.Flushed {
			t.Errorf("a cancelled request got a body: %s", w.Body)
		}
	})
}

func TestErrorRate(t *testing.T) {
	s := New(Config{Seed: 1, ErrorRate: 0.2})
	codes := statuses(t, s, "/pagination/page_number", 1000)
	e500, e502, e503, ok := count(codes, 500), count(codes, 502), count(codes, 503), count(codes, 200)
	if e500+e502+e503+ok != 1000 {
		t.Fatalf("statuses other than 200, 500, 502, 503: %v", codes)
	}
	if errs := e500 + e502 + e503; errs < 150 || errs > 250 || e500 == 0 || e502 == 0 || e503 == 0 {
		t.Errorf("ErrorRate 0.2 gave %d errors in 1000 (500: %d, 502: %d, 503: %d)", errs, e500, e502, e503)
	}
	if st := s.Stats(); st.Errors != int64(1000-ok) || st.OK != int64(ok) || st.Requests != 1000 {
		t.Errorf("stats %+v, want %d errors and %d OK", st, 1000-ok, ok)
	}

	gw := get(t, New(Config{ErrorRate: 1, ErrorCodes: []int{502}}), "/pagination/offset")
	if gw.Code != 502 || gw.Header().Get("Content-Type") != "text/html" || !strings.Contains(gw.Body.String(), "<h1>502 Bad Gateway</h1>") {
		t.Errorf("502: %d %q %s", gw.Code, gw.Header().Get("Content-Type"), gw.Body)
	}

	all := New(Config{ErrorRate: 1, ErrorCodes: []int{503}})
	w := get(t, all, "/pagination/keyset")
	got := decode[struct {
		Error string `json:"error"`
	}](t, w.Body.Bytes())
	if w.Code != 503 || got.Error != "Service Unavailable" {
		t.Errorf("ErrorRate 1: %d %q", w.Code, got.Error)
	}
}

// TestFaultsDeterministic checks that a seed fixes which requests fail,
// and that one fault's rate does not move another's draws.
func TestFaultsDeterministic(t *testing.T) {
	cfg := Config{Seed: 11, ErrorRate: 0.1, ThrottleRate: 0.05}
	a := statuses(t, New(cfg), "/pagination/offset", 300)
	if diff := cmp.Diff(a, statuses(t, New(cfg), "/pagination/offset", 300)); diff != "" {
		t.Errorf("same seed, different faults (-a +b):\n%s", diff)
	}
	cfg.SlowRate, cfg.SlowDelay = 0.5, time.Nanosecond
	if diff := cmp.Diff(a, statuses(t, New(cfg), "/pagination/offset", 300)); diff != "" {
		t.Errorf("SlowRate moved the errors (-without +with):\n%s", diff)
	}
	cfg.Seed = 12
	if cmp.Equal(a, statuses(t, New(cfg), "/pagination/offset", 300)) {
		t.Errorf("seeds 11 and 12 failed the same requests")
	}
}

func TestThrottle(t *testing.T) {
	s := New(Config{Seed: 3, ThrottleRate: 0.05, ThrottleBurst: 4, RetryAfter: 1500 * time.Millisecond})
	var codes []int
	for range 1000 {
		w := get(t, s, "/pagination/page_number")
		codes = append(codes, w.Code)
		if w.Code == 429 && w.Header().Get("Retry-After") != "2" {
			t.Fatalf("429 with Retry-After %q, want 2", w.Header().Get("Retry-After"))
		}
	}
	bursts := 0
	for i := 0; i < len(codes); {
		if codes[i] != 429 {
			i++
			continue
		}
		j := i
		for j < len(codes) && codes[j] == 429 {
			j++
		}
		if j-i < 4 && j < len(codes) {
			t.Errorf("a burst of %d 429s at request %d, want at least 4", j-i, i)
		}
		bursts++
		i = j
	}
	if bursts < 10 || bursts > 70 {
		t.Errorf("%d bursts in 1000 requests at ThrottleRate 0.05", bursts)
	}
	if st := s.Stats(); st.Throttled != int64(count(codes, 429)) || st.Throttled+st.OK != 1000 {
		t.Errorf("stats %+v, %d 429s", st, count(codes, 429))
	}
	for _, tc := range []struct {
		retry time.Duration
		want  string
	}{{0, "1"}, {-1, "0"}, {time.Second, "1"}, {90 * time.Second, "90"}} {
		w := get(t, New(Config{ThrottleRate: 1, RetryAfter: tc.retry}), "/pagination/page_number")
		if w.Code != 429 || w.Header().Get("Retry-After") != tc.want {
			t.Errorf("RetryAfter %v: %d, Retry-After %q, want %q", tc.retry, w.Code, w.Header().Get("Retry-After"), tc.want)
		}
	}
}

func TestDrop(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("http2=%v", h2), func(t *testing.T) {
			s := New(Config{Seed: 1, DropRate: 1})
			srv := httptest.NewUnstartedServer(s)
			srv.EnableHTTP2 = h2
			if h2 {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			for range 3 {
				resp, err := srv.Client().Get(srv.URL + "/pagination/page_number?per_page=50")
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if h2 != (resp.ProtoMajor == 2) {
					t.Fatalf("served over %s", resp.Proto)
				}
				if err == nil {
					t.Fatalf("read a dropped body of %d bytes without an error", len(body))
				}
				if !h2 && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("error %v, want unexpected EOF", err)
				}
				if int64(len(body)) >= resp.ContentLength || len(body) == 0 {
					t.Errorf("read %d of %d bytes before the drop, want part", len(body), resp.ContentLength)
				}
			}
			if st := s.Stats(); st.Dropped != 3 || st.OK != 0 {
				t.Errorf("stats %+v, want 3 dropped", st)
			}
		})
	}
}

func TestDropRecorderAborts(t *testing.T) {
	s := New(Config{DropRate: 1})
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	get(t, s, "/pagination/page_number")
}

func TestSlow(t *testing.T) {
	plain := mustGet(t, New(Config{Seed: 1}), "/pagination/page_number?per_page=20").Body.String()
	synctest.Test(t, func(t *testing.T) {
		s := New(Config{Seed: 1, SlowRate: 1, SlowChunk: 100, SlowDelay: 10 * time.Millisecond})
		start := time.Now()
		w := mustGet(t, s, "/pagination/page_number?per_page=20")
		chunks := (len(plain) + 99) / 100
		if d := time.Since(start); d != time.Duration(chunks-1)*10*time.Millisecond {
			t.Errorf("%d chunks took %v, want %v", chunks, d, time.Duration(chunks-1)*10*time.Millisecond)
		}
		if w.Body.String() != plain || !w.Flushed {
			t.Errorf("slow body differs from the plain one, or was not flushed")
		}
		if st := s.Stats(); st.Slowed != 1 || st.OK != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestSlowOverHTTP reads a trickled body over a real connection, then
// gives up on one that would take hours: the handler must stop, or Close
// would hang.
func TestSlowOverHTTP(t *testing.T) {
	plain := mustGet(t, New(Config{Seed: 1}), "/pagination/page_number?per_page=50").Body.String()
	s := New(Config{Seed: 1, SlowRate: 1, SlowChunk: 1000, SlowDelay: time.Millisecond})
	srv := httptest.NewServer(s)
	if got := string(httpGet(t, srv.Client(), srv.URL+"/pagination/page_number?per_page=50")); got != plain {
		t.Errorf("trickled body differs from the plain one")
	}
	srv.Close()

	srv = httptest.NewServer(New(Config{Seed: 1, SlowRate: 1, SlowChunk: 10, SlowDelay: time.Hour}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/pagination/page_number", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 10)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	if string(first) != `{"data":[{` {
		t.Errorf("first chunk %q", first)
	}
	cancel()
	resp.Body.Close()
}

func TestPageSizeCap(t *testing.T) {
	s := New(Config{Seed: 1, MaxPerPage: 100, PageSizeCap: 50})
	all := s.Records()
	pn := decode[pageNumberResp](t, mustGet(t, s, "/pagination/page_number?per_page=100&page=2").Body.Bytes())
	want := pageNumberResp{Data: all[50:100], Page: 2, PageSize: 50, TotalPages: 4, TotalItems: 200}
	if diff := cmp.Diff(want, pn); diff != "" {
		t.Errorf("page_number (-want +got):\n%s", diff)
	}
	off := decode[offsetResp](t, mustGet(t, s, "/pagination/offset?limit=100&offset=10").Body.Bytes())
	if diff := cmp.Diff(offsetResp{Data: all[10:60], Offset: 10, Limit: 50, Total: 200}, off); diff != "" {
		t.Errorf("offset (-want +got):\n%s", diff)
	}
	np := decode[nextPageURLResp](t, mustGet(t, s, "/pagination/next_page_url?per_page=100").Body.Bytes())
	if np.PerPage != 50 || len(np.Data) != 50 || np.NextPageURL == nil || *np.NextPageURL != "http://example.com/pagination/next_page_url?order_by=updatedAt&order_type=asc&page=2&per_page=50" {
		t.Errorf("next_page_url: per_page %d, %d records, next %v", np.PerPage, len(np.Data), np.NextPageURL)
	}
	for _, target := range []string{"/pagination/next_token?limit=100", "/pagination/starting_after?limit=100", "/pagination/link_header?per_page=100"} {
		body := mustGet(t, s, target).Body.Bytes()
		var n int
		if target == "/pagination/link_header?per_page=100" {
			n = len(decode[[]User](t, body))
		} else {
			n = len(decode[nextTokenRespOrList](t, body).Data)
		}
		if n != 50 {
			t.Errorf("%s served %d records, want 50", target, n)
		}
	}
	ks := New(Config{Seed: 1, PageSizeCap: 20})
	if r := decode[keysetResp](t, mustGet(t, ks, "/pagination/keyset").Body.Bytes()); len(r.Data) != 20 {
		t.Errorf("keyset with PageSizeCap 20 served %d", len(r.Data))
	}
	if got := walkPageNumber(t, s, "order_by=updatedAt", 50); !cmp.Equal(ids(all), ids(got)) {
		t.Errorf("a capped walk did not get every record")
	}
	if st := s.Stats(); st.Capped != 6 {
		t.Errorf("Capped %d, want 6", st.Capped)
	}
}

// nextTokenRespOrList decodes the data of any object response.
type nextTokenRespOrList struct {
	Data      []User  `json:"data"`
	NextToken *string `json:"next_token"`
	Object    string  `json:"object"`
	HasMore   bool    `json:"has_more"`
	URL       string  `json:"url"`
}

// TestMutateShiftsPages walks pages while the dataset changes under it: the
// page-number walk loses or repeats records, the next_token walk loses none.
func TestMutateShiftsPages(t *testing.T) {
	cfg := Config{Seed: 4, Mutate: Mutation{Every: 2, Updates: 3, Inserts: 1}}
	s := New(cfg)
	initial := s.Records()
	got := walkPageNumber(t, s, "order_by=updatedAt", 20)
	seen := map[string]int{}
	for _, u := range got {
		seen[u.ID]++
	}
	lost, repeated := 0, 0
	for _, u := range initial {
		switch seen[u.ID] {
		case 0:
			lost++
		case 1:
		default:
			repeated++
		}
	}
	if lost == 0 {
		t.Errorf("a page-number walk under mutation lost no record; pages did not shift")
	}
	st := s.Stats()
	if st.Updated == 0 || st.Inserted == 0 || st.Updated != 3*st.Inserted {
		t.Errorf("stats %+v", st)
	}
	t.Logf("page-number walk under mutation: %d lost, %d repeated, %d updated, %d inserted", lost, repeated, st.Updated, st.Inserted)

	s = New(cfg)
	initial = s.Records()
	seen = map[string]int{}
	target := "/pagination/next_token?limit=20"
	for {
		r := decode[nextTokenResp](t, mustGet(t, s, target).Body.Bytes())
		for _, u := range r.Data {
			seen[u.ID]++
		}
		if r.NextToken == nil {
			break
		}
		target = "/pagination/next_token?limit=20&next_token=" + *r.NextToken
	}
	for _, u := range initial {
		if seen[u.ID] == 0 {
			t.Errorf("the next_token walk under mutation lost %s", u.ID)
		}
	}
}

// TestConcurrent serves many clients while the dataset changes, for -race,
// and checks every page is consistent with its totals.
func TestConcurrent(t *testing.T) {
	s := New(Config{Records: 1000, Seed: 1, Mutate: Mutation{Every: 7, Updates: 5, Inserts: 2}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 30 {
				per := 1 + (g*31+i)%50
				switch i % 4 {
				case 0:
					r := decode[pageNumberResp](t, httpGet(t, srv.Client(), srv.URL+"/pagination/page_number?order_by=createdAt&per_page="+strconv.Itoa(per)+"&page="+strconv.Itoa(1+i%5)))
					if r.TotalPages != (r.TotalItems+per-1)/per || len(r.Data) != min(per, max(r.TotalItems-(r.Page-1)*per, 0)) {
						t.Errorf("page %+v inconsistent", r)
					}
				case 1:
					decode[offsetResp](t, httpGet(t, srv.Client(), srv.URL+"/pagination/offset?order_type=desc&offset=900"))
				case 2:
					decode[nextTokenResp](t, httpGet(t, srv.Client(), srv.URL+"/pagination/next_token?limit=50"))
				default:
					decode[startingAfterResp](t, httpGet(t, srv.Client(), srv.URL+"/pagination/starting_after"))
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			s.Update(3)
			s.Insert(1)
			s.Records()
		}
	})
	wg.Wait()
	if n := s.Len(); n != 1000+20+2*(16*30/7) {
		t.Errorf("Len %d after the inserts", n)
	}
}
