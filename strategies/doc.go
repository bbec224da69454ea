// Package strategies provides paginators over HTTP and JSON for the
// paginate runner: [PageNumber], [Offset], [Cursor] (keyset) and
// [NextToken] (a token or next URL from the body, a header or the Link
// header). Each is a plain configuration struct whose zero values are
// useful defaults; a pointer to it is a [paginate.Paginator], and
// PageNumber and Offset are [paginate.Planner]s too, so the runner can fetch
// their pages in parallel once a total is known.
//
//	p := &strategies.PageNumber[User]{
//		HTTP:   strategies.HTTP{URL: "http://127.0.0.1:5001/pagination/page_number"},
//		Paging: strategies.Paging[User]{Size: 50, SizeParam: strategies.Query("per_page"),
//			ItemsPath: "data", TotalPagesPath: "total_pages"},
//	}
//	res, err := paginate.Run(ctx, p, sink, paginate.Options[User]{Stream: "users"})
//
// # Requests
//
// The settings every strategy shares are in two embedded structs. [HTTP]
// holds the client, URL (with {name} path placeholders), static query
// parameters, headers and JSON body, an Auth hook called on every attempt,
// a rate limiter, a body size limit, and the hosts next URLs may lead to.
// [Paging] holds the page size, the incremental window (since, until,
// lookback, newest-first) and where a response keeps its records, totals
// and has-more flag.
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
// permanent error, never an empty page. Each strategy also takes a Decode
// function for full control over a response.
package strategies
