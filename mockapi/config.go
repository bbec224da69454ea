package mockapi

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// MaxRecords is the largest dataset [New] builds.
const MaxRecords = 10_000_000

// Config describes a [Server]: its dataset, its limits and the faults it
// injects. The zero Config is the SDK example's API: 200 records, pages of at most
// 50, no faults.
type Config struct {
	// Records is the size of the dataset. Zero means 200, as the SDK example's API holds.
	Records int
	// Seed makes the dataset, the mutations and the faults reproducible:
	// two servers with the same Config serve the same bytes and inject the
	// same faults into the same sequence of requests.
	Seed uint64

	// TieRate is the chance that a record shares the previous record's
	// updatedAt, so that some records tie. Zero means 0.05; a negative
	// value means no random ties.
	TieRate float64
	// TieGroups adds groups of records that share one updatedAt, at fixed
	// places in the updatedAt order, for tests of ties larger than a page.
	TieGroups []TieGroup

	// OrdersPerUser, when positive, gives every user exactly this many
	// orders on /users/{id}/orders; a negative value gives none. Zero
	// means a spread: a quarter of the users have none, most have 1 to
	// 30, and one in fifty has 151 to 500 (several pages).
	OrdersPerUser int
	// Events is the length of the event log on /events. Zero means as
	// many as Records; a negative value means none.
	Events int

	// PreEncode is the largest dataset whose records are encoded to JSON
	// once, at New and when they change, so that serving a page is a few
	// copies; that costs about 300 bytes a record. Larger datasets encode
	// each record as it is served, about 0.3µs a record. Zero means
	// 250,000; a negative value means never.
	PreEncode int

	// MaxPerPage is the largest per_page or limit a request may ask for;
	// larger values get 400. Zero means 50, as the SDK example's API allows.
	MaxPerPage int
	// PageSizeCap, when positive, serves at most this many records a page
	// whatever the request asked for, like a server that silently lowers
	// page sizes; set MaxPerPage above it so that larger asks are accepted.
	// Responses report the size served (page_size, per_page, limit) and
	// honest totals, and page numbers count pages of the size served.
	PageSizeCap int

	// ClampPages answers a page or offset past the last record with the
	// last page, as json-server 1.x does, instead of an empty page.
	// Bodies still report the page and offset that were asked for.
	ClampPages bool
	// NoTotals leaves the totals out of every response (total_pages,
	// total_items, total, X-Total-Count and the Link header's "last"),
	// like APIs that never count.
	NoTotals bool

	// Latency delays every response.
	Latency time.Duration
	// LatencyJitter adds a random delay in [0, LatencyJitter) to every
	// response.
	LatencyJitter time.Duration

	// ErrorRate is the fraction of requests answered with an error status
	// drawn from ErrorCodes.
	ErrorRate float64
	// ErrorCodes are the statuses ErrorRate injects. Empty means 500, 502
	// and 503. The body is {"error": "<status text>"}, except for 502,
	// which gets an HTML page, as from a proxy in front of the API.
	ErrorCodes []int

	// ThrottleRate is the chance that a request starts a burst of 429 Too
	// Many Requests responses.
	ThrottleRate float64
	// ThrottleBurst is how many consecutive requests a burst answers with
	// 429, the first included. Zero means 3.
	ThrottleBurst int
	// RetryAfter is the delay a 429 asks for in its Retry-After header,
	// rounded up to whole seconds. Zero means 1s; a negative value sends
	// "Retry-After: 0".
	RetryAfter time.Duration

	// DropRate is the fraction of 200 responses whose connection is
	// closed after part of the body, so the client reads a body shorter
	// than its Content-Length.
	DropRate float64

	// SlowRate is the fraction of 200 responses whose body trickles out in
	// SlowChunk-byte writes SlowDelay apart.
	SlowRate float64
	// SlowChunk is the size of each write of a slow body. Zero means 128.
	SlowChunk int
	// SlowDelay is the pause between writes of a slow body. Zero means
	// 10ms.
	SlowDelay time.Duration

	// Mutate changes the dataset while clients page through it.
	Mutate Mutation

	// OAuth configures the token endpoint, PathToken, and whether the
	// listings want its tokens.
	OAuth OAuth

	// LocatorTTL is how long a query locator of PathQueryLocator lives
	// (Salesforce's live fifteen minutes). Zero means until
	// Server.ExpireLocators.
	LocatorTTL time.Duration

	// Clock, if set, gives the time of each mutation, which is still
	// forced later than every updatedAt in the dataset. Nil means a
	// logical clock: each mutation is one second after the latest
	// updatedAt, which keeps runs reproducible.
	Clock func() time.Time
}

// TieGroup is a run of Size consecutive records, starting at index At of
// the updatedAt order, that share one updatedAt.
type TieGroup struct {
	At, Size int
}

// Mutation changes the dataset every Every requests, before the request is
// served: Updates existing records get a new updatedAt, later than any
// other, and Inserts new records are created with it. A page-number walk in
// ascending updatedAt order then sees records shift left by a page and the
// updated ones again at the end. Every zero disables it.
type Mutation struct {
	Every   int
	Updates int
	Inserts int
}

func (c Config) records() int {
	if c.Records == 0 {
		return 200
	}
	return c.Records
}

func (c Config) tieRate() float64 {
	switch {
	case c.TieRate < 0:
		return 0
	case c.TieRate == 0:
		return 0.05
	}
	return c.TieRate
}

func (c Config) preEncode() bool {
	limit := c.PreEncode
	if limit == 0 {
		limit = 250_000
	}
	return c.records() <= limit
}

func (c Config) maxPerPage() int {
	if c.MaxPerPage <= 0 {
		return 50
	}
	return c.MaxPerPage
}

// capPage returns the page size served for a request that asked for n.
func (c Config) capPage(n int) int {
	if c.PageSizeCap > 0 && n > c.PageSizeCap {
		return c.PageSizeCap
	}
	return n
}

func (c Config) errorCodes() []int {
	if len(c.ErrorCodes) == 0 {
		return []int{500, 502, 503}
	}
	return c.ErrorCodes
}

func (c Config) throttleBurst() int {
	if c.ThrottleBurst <= 0 {
		return 3
	}
	return c.ThrottleBurst
}

// retryAfterSeconds returns the Retry-After header value.
func (c Config) retryAfterSeconds() int64 {
	switch {
	case c.RetryAfter < 0:
		return 0
	case c.RetryAfter == 0:
		return 1
	}
	return int64((c.RetryAfter + time.Second - 1) / time.Second)
}

func (c Config) slowChunk() int {
	if c.SlowChunk <= 0 {
		return 128
	}
	return c.SlowChunk
}

func (c Config) slowDelay() time.Duration {
	if c.SlowDelay <= 0 {
		return 10 * time.Millisecond
	}
	return c.SlowDelay
}

// Validate reports what is wrong with c, if anything. [New] panics on a
// Config that Validate rejects.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}
	if c.Records < 0 || c.Records > MaxRecords {
		bad("Records %d is outside 0..%d", c.Records, MaxRecords)
	}
	if c.TieRate >= 1 {
		bad("TieRate %v must be below 1", c.TieRate)
	}
	n := c.records()
	groups := slices.Clone(c.TieGroups)
	slices.SortFunc(groups, func(a, b TieGroup) int { return a.At - b.At })
	end := 0
	for _, g := range groups {
		switch {
		case g.Size < 1 || g.At < 0 || g.At+g.Size > n:
			bad("TieGroup{At: %d, Size: %d} does not fit in %d records", g.At, g.Size, n)
		case g.At < end:
			bad("TieGroup{At: %d, Size: %d} overlaps the group before it", g.At, g.Size)
		}
		end = g.At + g.Size
	}
	if c.Events > MaxRecords || c.OrdersPerUser > 100_000 {
		bad("Events %d must be at most %d and OrdersPerUser %d at most 100000", c.Events, MaxRecords, c.OrdersPerUser)
	}
	if c.MaxPerPage < 0 {
		bad("MaxPerPage %d is negative", c.MaxPerPage)
	}
	if c.PageSizeCap < 0 {
		bad("PageSizeCap %d is negative", c.PageSizeCap)
	}
	if c.Latency < 0 || c.LatencyJitter < 0 {
		bad("Latency %v and LatencyJitter %v must not be negative", c.Latency, c.LatencyJitter)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"ErrorRate", c.ErrorRate}, {"ThrottleRate", c.ThrottleRate},
		{"DropRate", c.DropRate}, {"SlowRate", c.SlowRate},
	} {
		if r.v < 0 || r.v > 1 {
			bad("%s %v is outside 0..1", r.name, r.v)
		}
	}
	for _, code := range c.ErrorCodes {
		if code < 400 || code > 599 {
			bad("ErrorCodes holds %d, not an error status", code)
		}
	}
	if c.ThrottleBurst < 0 || c.SlowChunk < 0 || c.SlowDelay < 0 {
		bad("ThrottleBurst, SlowChunk and SlowDelay must not be negative")
	}
	if f := c.OAuth.Fail; f != 0 && (f < 400 || f > 599) {
		bad("OAuth.Fail %d is not an error status", f)
	}
	if m := c.Mutate; m.Every < 0 || m.Updates < 0 || m.Inserts < 0 {
		bad("Mutate %+v has a negative field", m)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mockapi: invalid Config: %w", err)
	}
	return nil
}
