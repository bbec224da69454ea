package strategies_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// seedUser is the seed API's record, about 300 bytes of JSON.
type seedUser struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Address   string `json:"address"`
	Company   string `json:"company"`
	Job       string `json:"job"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

const (
	benchPages = 20
	benchSize  = 50
)

// benchServer serves benchPages pre-encoded pages of the seed's
// page-number contract, so that the benchmarks measure the client.
func benchServer(b *testing.B) *httptest.Server {
	pages := make([][]byte, benchPages+1)
	for p := 1; p <= benchPages; p++ {
		data := make([]seedUser, benchSize)
		for i := range data {
			n := (p-1)*benchSize + i
			data[i] = seedUser{
				ID: fmt.Sprintf("6f1c2a9e-%04d-4f7b-9c1d-2b3a4c5d6e7f", n), Name: "Jane Doe " + strconv.Itoa(n),
				Email: fmt.Sprintf("jane.doe%d@example.com", n), Address: "123 Main Street\nSpringfield, IL 62704",
				Company: "Acme Widgets and Sons LLC", Job: "Senior Software Engineer",
				CreatedAt: "2024-09-22T18:50:06Z", UpdatedAt: "2024-09-22T19:35:41Z",
			}
		}
		pages[p], _ = json.Marshal(map[string]any{"data": data, "page": p, "page_size": benchSize,
			"total_pages": benchPages, "total_items": benchPages * benchSize})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if p < 1 || p > benchPages {
			p = 1
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(pages[p])))
		w.Write(pages[p])
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

// BenchmarkHandWritten is the baseline: the loop a connector author would
// write with net/http and encoding/json, with no retries, checkpoints or
// checks.
func BenchmarkHandWritten(b *testing.B) {
	srv := benchServer(b)
	client := benchClient()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		items := 0
		for page := 1; ; page++ {
			q := url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}, "updated_since": {"0001-01-01T00:00:00Z"},
				"per_page": {strconv.Itoa(benchSize)}, "page": {strconv.Itoa(page)}}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/pagination/page_number?"+q.Encode(), nil)
			if err != nil {
				b.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var body struct {
				Data       []seedUser `json:"data"`
				Page       int        `json:"page"`
				TotalPages int        `json:"total_pages"`
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(resp.Status, err)
			}
			items += len(body.Data)
			if len(body.Data) == 0 || body.Page >= body.TotalPages {
				break
			}
		}
		if items != benchPages*benchSize {
			b.Fatalf("%d items", items)
		}
	}
}

func benchPaginator(srv string, client strategies.Doer) *strategies.PageNumber[seedUser] {
	return &strategies.PageNumber[seedUser]{
		Request: strategies.Request{
			URL:    srv + "/pagination/page_number",
			Client: client,
			Query:  url.Values{"order_by": {"updatedAt"}, "order_type": {"asc"}},
		},
		Size:      benchSize,
		SizeParam: strategies.Query("per_page"),
		Response: strategies.Shape[seedUser]{
			ItemsPath:      "data",
			TotalPagesPath: "total_pages",
			TotalItemsPath: "total_items",
		},
		Window: strategies.Window[seedUser]{
			SinceParam:   strategies.Query("updated_since"),
			SinceDefault: "0001-01-01T00:00:00Z",
		},
		PagePath: "page",
	}
}

// BenchmarkPageNumberFetch walks the same pages with the strategy alone.
func BenchmarkPageNumberFetch(b *testing.B) {
	srv := benchServer(b)
	p := benchPaginator(srv.URL, benchClient())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		items := 0
		for pos := (paginate.Position{}); ; {
			page, err := p.Fetch(ctx, pos)
			if err != nil {
				b.Fatal(err)
			}
			items += len(page.Items)
			if !page.More {
				break
			}
			pos = page.Next
		}
		if items != benchPages*benchSize {
			b.Fatalf("%d items", items)
		}
	}
}

// BenchmarkPageNumberRun walks the same pages through paginate.Run, one
// page at a time, into a sink that drops them.
func BenchmarkPageNumberRun(b *testing.B) {
	srv := benchServer(b)
	p := benchPaginator(srv.URL, benchClient())
	sink := paginate.SinkFunc[seedUser](func(context.Context, []seedUser) error { return nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := paginate.Run(ctx, p, sink, paginate.Options[seedUser]{Concurrency: 1})
		if err != nil || res.Items != benchPages*benchSize {
			b.Fatal(res.Items, err)
		}
	}
}
