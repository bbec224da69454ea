package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/pagekit/pagekit/mockapi"
	"github.com/pagekit/pagekit/paginate"
	"github.com/pagekit/pagekit/strategies"
)

// latencyBound syncs pages of a slow API sequentially and with 4, 8 and 16
// pages at once, and compares each with the ideal pages*latency/concurrency.
func latencyBound(ctx context.Context, cfg config) ([]row, error) {
	const perPage = 10
	records := cfg.pages * perPage
	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: records, Seed: 2, Latency: cfg.latency}))
	defer srv.Close()
	sync := func(conc int) (time.Duration, error) {
		p := &strategies.PageNumber[mockapi.User]{
			Request:   strategies.Request{URL: srv.URL + mockapi.PathPageNumber, Client: srv.Client(), Query: seedQuery()},
			Size:      perPage,
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
		start := time.Now()
		_, err := paginate.Run(ctx, p, sink, paginate.Options[mockapi.User]{Concurrency: conc})
		if err == nil && n != records {
			err = fmt.Errorf("synced %d records, want %d", n, records)
		}
		return time.Since(start), err
	}
	seq, err := sync(1)
	if err != nil {
		return nil, err
	}
	rows := []row{{
		name:     fmt.Sprintf("latency: sequential, %d pages at %v", cfg.pages, cfg.latency),
		measured: seq.Round(time.Millisecond).String(),
		detail:   fmt.Sprintf("ideal %v", (time.Duration(cfg.pages) * cfg.latency).Round(time.Millisecond)),
	}}
	for _, conc := range []int{4, 8, 16} {
		d, err := sync(conc)
		if err != nil {
			return nil, err
		}
		speedup := float64(seq) / float64(d)
		// The first page is fetched alone: it tells the total.
		ideal := cfg.latency + time.Duration(cfg.pages-1)*cfg.latency/time.Duration(conc)
		frac := float64(ideal) / float64(d)
		r := row{
			name:     fmt.Sprintf("latency: concurrency %d", conc),
			measured: fmt.Sprintf("%.1fx, %.0f%% of ideal", speedup, 100*frac),
			detail:   fmt.Sprintf("%v; ideal %v", d.Round(time.Millisecond), ideal.Round(time.Millisecond)),
		}
		if conc == 16 {
			r.target = ">= 12x and >= 75% of ideal"
			r.ok = speedup >= 12 && frac >= 0.75
		}
		rows = append(rows, r)
	}
	return rows, nil
}
