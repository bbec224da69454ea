// Package strategies provides paginators over HTTP and JSON for the
// paginate runner: [PageNumber], [Offset], [Cursor] (keyset) and
// [NextToken] (a token or next URL from the body, a header or the Link
// header). Each is a plain configuration struct whose zero values are
// useful defaults; a pointer to it is a [paginate.Paginator], and
// PageNumber and Offset are [paginate.Planner]s too, so the runner can fetch
// their pages in parallel once a total is known.
//
//	p := &strategies.PageNumber[User]{
//		Request:   strategies.Request{URL: "http://127.0.0.1:5001/pagination/page_number"},
//		Size:      50,
//		SizeParam: strategies.Query("per_page"),
//		Response:  strategies.Shape[User]{ItemsPath: "data", TotalPagesPath: "total_pages"},
//	}
//	res, err := paginate.Run(ctx, p, sink, paginate.Options[User]{Stream: "users"})
//
// # Requests
//
// Every strategy has the same four groups of settings, each a struct whose
// zero value is a useful default, beside its page Size and its own fields:
// a [Request] (the URL, with {name} path placeholders, static query
// parameters, headers and JSON body, an Auth hook called on every attempt,
// the hosts next URLs may lead to, and the client), a response [Shape]
// (where a response keeps its records, totals and has-more flag), a
// [Window] (the incremental window: since, until, lookback, newest-first)
// and [Limits] (body size, records a page, timeouts, request rate).
//
// Without a Request.Client, requests go through a client shared by every
// paginator, with a connection pool sized for parallel fetching, the
// connect timeout of Limits.Timeouts, a 10-second TLS handshake limit, a
// 10-minute ceiling on a whole exchange, and redirects followed only
// within the URL's origin and Request.AllowHosts. A Client of your own
// wraps another to record, sign or throttle requests, as
// oauth2.Transport wraps a RoundTripper; it sets its own dialer's
// timeouts, while the header and idle timeouts apply to any Client.
//
// Every value a strategy sends (page number, offset, size, since, until,
// cursor, token) is placed by a [Param]: a query parameter, a header, a
// field of the JSON body at a dotted path, or a {name} of the URL's path.
// Each has a default (the query parameters "page", "offset" and "limit");
// Validate reports a configuration that cannot work before any request,
// and paginate.Run calls it. Statuses 408, 425, 429 and 5xx (but 501 and 505), a 403 that
// a rate-limit header explains, and network errors are retried by the
// runner; Retry-After, RateLimit-Reset and X-RateLimit-Reset set the wait.
// Other statuses fail at once. Every failure is an *[HTTPError] naming the
// method, the URL with credentials redacted, the status and the start of the
// body.
//
// # Responses
//
// Records are decoded straight into []T in one pass over the body; nothing
// else in the body is built. Where the records and the other values live
// is given by paths: dotted lists of object keys such as "data",
// "meta.total" or "response_metadata.next_cursor" (a backslash escapes a dot
// inside a key). The empty path, for the items, means the body is the
// array. Keys match exactly, case included, unlike encoding/json's struct
// fields, so "Data" is never read for "data"; the records themselves are
// decoded by encoding/json into T with its usual rules. A null where the
// records are expected is an empty page; a missing items key, a body that is
// not JSON (an HTML page served with status 200), or malformed JSON is a
// permanent error, never an empty page. Shape.Decode takes full control
// over a response instead.
//
// # How a sync ends
//
// Every strategy reads a page into the same facts (its records, the
// has-more flag, the totals, a next token) and one rule decides whether
// the page ends the sync, and why. The first of these that holds decides:
//
//  1. StopLastPage: Window.NewestFirst met a record below the lower bound.
//  2. StopHasMoreFalse: the response says no more pages follow.
//  3. StopNoNextToken: a NextToken response names no next page.
//  4. StopTotalReached: the page reaches the total pages or total items.
//  5. StopEmptyPage: the page has no records, and neither the totals nor a
//     next token say more follow. They win over an empty page, for APIs
//     that filter pages after paging them, unless Shape.EmptyPageEnds
//     says an empty page ends the data. A page-number walk over empty
//     pages goes no further than the total pages, or the pages the total
//     items fill at Size; an offset walk steps over an empty page by Size.
//  6. StopDepthLimit: the page is at PageNumber.MaxPage or
//     Offset.MaxOffset, with records possibly left past it.
//  7. StopShortPage: the page holds fewer records than Size and
//     Shape.ShortPageEnds is set; servers often cap page sizes silently,
//     so a short page is not the end by default.
//  8. StopLastPage: an inclusive Cursor's short page all at the value
//     asked for, which were the last records.
//
// Otherwise more pages follow. A cursor cannot go past an empty page,
// which always ends it. The runner adds its own stops (a repeated page,
// limits, errors; see paginate.StopReason).
package strategies
