package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// overhead compares the runner with the loop a connector author would
// write by hand, over the same server, client and records.
func overhead(ctx context.Context, cfg config) ([]row, error) {
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: cfg.records, Seed: 1, MaxPerPage: cfg.perPage}))
	defer srv.Close()
	client := srv.Client()
	url := srv.URL + mockapi.PathPageNumber

	hand := func() (int, error) { return handLoop(ctx, client, url, cfg.perPage) }
	runner := func() (int, error) {
		p := &strategies.PageNumber[mockapi.User]{
			Request:   strategies.Request{URL: url, Client: client, Query: seedQuery()},
			Size:      cfg.perPage,
			SizeParam: strategies.Query("per_page"),
			Response: strategies.Shape[mockapi.User]{
				ItemsPath:      "data",
				TotalPagesPath: "total_pages",
			},
		}
		n := 0
		sink := paginate.SinkFunc[mockapi.User](func(_ context.Context, users []mockapi.User) error {
			n += len(users)
			return nil
		})
		_, err := paginate.Run(ctx, p, sink, paginate.Options[mockapi.User]{Concurrency: 1})
		return n, err
	}
	// Warm both paths (connections, caches), then alternate so that
	// drift in the machine's speed hits both alike.
	var th, tr []time.Duration
	for i := -1; i < cfg.rounds; i++ {
		for _, m := range []struct {
			f   func() (int, error)
			out *[]time.Duration
		}{{hand, &th}, {runner, &tr}} {
			start := time.Now()
			n, err := m.f()
			if err != nil {
				return nil, err
			}
			if n != cfg.records {
				return nil, fmt.Errorf("synced %d records, want %d", n, cfg.records)
			}
			if i >= 0 {
				*m.out = append(*m.out, time.Since(start))
			}
		}
	}
	h, r := median(th), median(tr)
	ratio := float64(r) / float64(h)
	return []row{{
		name:     fmt.Sprintf("overhead: runner / hand loop, %d records, %d a page", cfg.records, cfg.perPage),
		measured: fmt.Sprintf("%.3f", ratio),
		target:   "<= 1.10",
		ok:       ratio <= 1.10,
		detail:   fmt.Sprintf("median of %d: runner %v, hand loop %v (%.0f records/s)", cfg.rounds, r.Round(time.Millisecond), h.Round(time.Millisecond), float64(cfg.records)/r.Seconds()),
	}}, nil
}

// seedQuery is the fixed query of the SDK example's connector.
func seedQuery() map[string][]string {
	return map[string][]string{"order_by": {"updatedAt"}, "order_type": {"asc"}}
}

// handLoop is the plain loop: GET a page, decode it, count, next page,
// until total_pages.
func handLoop(ctx context.Context, client *http.Client, url string, perPage int) (int, error) {
	n := 0
	for page := 1; ; page++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet,
			fmt.Sprintf("%s?order_by=updatedAt&order_type=asc&per_page=%d&page=%d", url, perPage, page), nil)
		if err != nil {
			return n, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return n, err
		}
		var body struct {
			Data       []mockapi.User `json:"data"`
			TotalPages int            `json:"total_pages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			return n, err
		}
		if resp.StatusCode != http.StatusOK {
			return n, fmt.Errorf("page %d: %s", page, resp.Status)
		}
		n += len(body.Data)
		if len(body.Data) == 0 || page >= body.TotalPages {
			return n, nil
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
