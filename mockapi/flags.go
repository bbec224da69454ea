package mockapi

import (
	"flag"
	"time"
)

// RegisterFlags defines on fs the flags of a mock API run inside a
// command, such as an example connector started with no -url, and
// [Start]ed from c once fs is parsed: the size of the dataset and the
// faults to inject. Each flag sets a field of c; c's values when
// RegisterFlags is called are the defaults -h shows.
//
//	-records -seed -latency -latency-jitter -error-rate -throttle-rate
//	-retry-after -drop-rate -page-cap -mutate-every -clamp-pages -no-totals
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	if c.Records == 0 {
		c.Records = c.records()
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = time.Duration(c.retryAfterSeconds()) * time.Second
	}
	const p = "in-process mock API: "
	fs.IntVar(&c.Records, "records", c.Records, p+"number of records")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, p+"seed of the dataset, the mutations and the faults")
	fs.DurationVar(&c.Latency, "latency", c.Latency, p+"delay before every response")
	fs.DurationVar(&c.LatencyJitter, "latency-jitter", c.LatencyJitter, p+"extra random delay in [0, jitter) before every response")
	fs.Float64Var(&c.ErrorRate, "error-rate", c.ErrorRate, p+"fraction of requests answered 500, 502 or 503")
	fs.Float64Var(&c.ThrottleRate, "throttle-rate", c.ThrottleRate, p+"chance a request starts a burst of 429s")
	fs.DurationVar(&c.RetryAfter, "retry-after", c.RetryAfter, p+"delay a 429 asks for (whole seconds; negative sends 0)")
	fs.Float64Var(&c.DropRate, "drop-rate", c.DropRate, p+"fraction of responses cut off mid-body")
	fs.IntVar(&c.PageSizeCap, "page-cap", c.PageSizeCap, p+"serve at most this many records a page (0: no cap)")
	fs.BoolVar(&c.ClampPages, "clamp-pages", c.ClampPages, p+"answer pages past the end with the last page, as json-server 1.x does")
	fs.BoolVar(&c.NoTotals, "no-totals", c.NoTotals, p+"leave totals out of responses")
	fs.IntVar(&c.Mutate.Every, "mutate-every", c.Mutate.Every, p+"change the dataset every this many requests: update one record and insert one (0: never)")
}
