package mockapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// discard is a ResponseWriter that keeps nothing, to measure the handler
// alone.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// benchServer is the later benchmark's dataset: 100,000 records, pages of
// 100.
func benchServer() *Server {
	return New(Config{Records: 100_000, Seed: 1, MaxPerPage: 100})
}

// BenchmarkHandler measures serving one page of 100 in process, for each
// endpoint style, cycling through 500 different pages.
func BenchmarkHandler(b *testing.B) {
	s := benchServer()
	for _, bc := range []struct {
		name   string
		target func(i int) string
	}{
		{"page_number", func(i int) string {
			return "/pagination/page_number?order_by=updatedAt&order_type=asc&updated_since=2022-06-01T00:00:00Z&per_page=100&page=" + strconv.Itoa(1+i)
		}},
		{"page_number_createdAt_desc", func(i int) string {
			return "/pagination/page_number?order_by=createdAt&order_type=desc&per_page=100&page=" + strconv.Itoa(1+i)
		}},
		{"offset", func(i int) string { return "/pagination/offset?limit=100&offset=" + strconv.Itoa(100*i) }},
		{"keyset", func(i int) string { return "/pagination/keyset?updated_since=2023-01-01T00:00:00Z" }},
		{"next_token", func(i int) string { return "/pagination/next_token?limit=100" }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discard{h: http.Header{}}
			reqs := make([]*http.Request, 500)
			for i := range reqs {
				reqs[i] = httptest.NewRequest(http.MethodGet, bc.target(i), nil)
			}
			s.ServeHTTP(w, reqs[0]) // build any lazy index first
			w.n = 0
			b.ReportAllocs()
			n := 0
			for i := 0; b.Loop(); i++ {
				s.ServeHTTP(w, reqs[i%len(reqs)])
				n++
			}
			b.SetBytes(int64(w.n / n))
		})
	}
}

// BenchmarkLoopback fetches pages of 100 over real loopback HTTP, one
// client and then 16 in parallel, reading each body to the end.
func BenchmarkLoopback(b *testing.B) {
	srv := httptest.NewServer(benchServer())
	defer srv.Close()
	tr := srv.Client().Transport.(*http.Transport)
	tr.MaxIdleConnsPerHost = 64
	fetch := func(b *testing.B, page int) int64 {
		resp, err := srv.Client().Get(srv.URL + "/pagination/page_number?per_page=100&page=" + strconv.Itoa(page))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(resp.Status, err)
		}
		return n
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		var n int64
		for i := 0; b.Loop(); i++ {
			n = fetch(b, 1+i%1000)
		}
		b.SetBytes(n)
	})
	b.Run("parallel16", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
		var page atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				fetch(b, 1+int(page.Add(1))%1000)
			}
		})
	})
}

// BenchmarkNew measures building datasets.
func BenchmarkNew(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				New(Config{Records: n, Seed: 1})
			}
		})
	}
}

// BenchmarkWalk100k is the later benchmark's first workload from the
// server's side: all 1,000 pages of 100 of a 100,000-record dataset over
// loopback, one client, bodies read but not decoded. One op is one walk.
func BenchmarkWalk100k(b *testing.B) {
	srv := httptest.NewServer(benchServer())
	defer srv.Close()
	c := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		var n int64
		for page := 1; page <= 1000; page++ {
			resp, err := c.Get(srv.URL + "/pagination/page_number?order_by=updatedAt&order_type=asc&updated_since=0001-01-01T00:00:00Z&per_page=100&page=" + strconv.Itoa(page))
			if err != nil {
				b.Fatal(err)
			}
			m, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(resp.Status, err)
			}
			n += m
		}
		b.SetBytes(n)
	}
}

// BenchmarkLatency16 is the second workload: 500 pages at 20ms latency
// fetched by 16 concurrent clients. The floor is 32 rounds of 20ms, 640ms;
// the excess is the cost of the mock and the HTTP stack.
func BenchmarkLatency16(b *testing.B) {
	srv := httptest.NewServer(New(Config{Records: 25_000, Seed: 1, Latency: 20 * time.Millisecond}))
	defer srv.Close()
	c := srv.Client()
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 16
	for b.Loop() {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for {
					page := next.Add(1)
					if page > 500 {
						return
					}
					resp, err := c.Get(srv.URL + "/pagination/page_number?per_page=50&page=" + strconv.FormatInt(page, 10))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
	}
}
