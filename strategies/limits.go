package strategies

import "golang.org/x/time/rate"

// DefaultMaxBody is the response body limit used when Limits.MaxBody is
// zero.
const DefaultMaxBody = 64 << 20

// DefaultMaxItems is the per-page record limit used when Limits.MaxItems is
// zero: ten times the largest page sizes APIs commonly serve.
const DefaultMaxItems = 100_000

// Limits bound what the requests of a sync may cost: the size of a page,
// the waits on the network, and the request rate. The zero value takes the
// defaults, which bound every page (see docs/security.md).
type Limits struct {
	// MaxBody caps the size of a response body; a larger body fails with
	// ErrBodyTooLarge without being read whole. Zero means DefaultMaxBody
	// (64 MiB); a negative value means no limit.
	MaxBody int64

	// MaxItems caps the records one page may hold; a page with more fails
	// with ErrTooManyItems before the excess is decoded. Zero means
	// DefaultMaxItems; a negative value means no limit.
	MaxItems int

	// MaxDecoded caps the memory, in bytes, a page's records take once
	// decoded, the lists, maps and pointers nested in them included,
	// which a page of tiny values such as "{}" could otherwise make
	// hundreds of times its body (see docs/security.md); a page that needs
	// more fails with ErrTooManyItems before it is built. Zero means 16
	// times the body read so far, at least 16 MiB; negative, no limit.
	MaxDecoded int64

	// Timeouts bound each attempt's waits: connecting, the response
	// headers, and each read of the body. Zero fields take the defaults.
	Timeouts Timeouts

	// Rate, when set, is waited on before every request. Share one
	// limiter between paginators to cap their requests together.
	Rate *rate.Limiter
}
