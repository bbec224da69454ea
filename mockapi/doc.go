// Package mockapi is a mock paginated REST API for tests, benchmarks and
// examples: the users API of the Fivetran Connector SDK's page-number
// connector example (the Python server, fivetran-api-playground, that the
// example syncs from on 127.0.0.1:5001), rebuilt as an [http.Handler] with
// a deterministic dataset of up to millions of records, endpoints for every
// common pagination style, and faults injected on demand.
//
//	srv := httptest.NewServer(mockapi.New(mockapi.Config{Records: 1000, Seed: 1}))
//	defer srv.Close()
//	resp, err := http.Get(srv.URL + "/pagination/page_number?per_page=50")
//
// # Endpoints
//
// Every endpoint answers GET (and HEAD) with a compact JSON body whose keys come in the
// order shown. A query parameter an endpoint does not accept gets 400
// {"error": "Unexpected query parameters: a, b"}; so do a malformed
// value, per_page or limit outside 1..MaxPerPage (50 by default), page
// below 1 and offset below 0. updated_since must be exactly
// YYYY-MM-DDTHH:MM:SSZ and is inclusive (updatedAt >= it);
// 0001-01-01T00:00:00Z means everything. order_by is updatedAt (the
// default) or createdAt, order_type asc (the default) or desc; id breaks
// ties, in the same direction. Defaults are in parentheses.
//
//	path                         parameters                       200 body
//	---------------------------  -------------------------------  --------------------------------------------
//	/pagination/page_number      order_by, order_type,            {data, page, page_size, total_pages,
//	                             per_page (10), page (1),          total_items}
//	                             updated_since
//	/pagination/offset           order_by, order_type,            {data, offset, limit, total}
//	                             limit (10), offset (0),
//	                             updated_since
//	/pagination/next_page_url    as page_number                   {data, total_items, page, per_page,
//	                                                               next_page_url}
//	/pagination/keyset           scroll_param | updated_since     {data, scroll_param}
//	/pagination/next_token       limit (10), next_token,          {data, next_token}
//	                             updated_since
//	/pagination/link_header      as page_number                   [records...], with Link and X-Total-Count
//	                                                              headers
//	/pagination/starting_after   limit (10), starting_after       {object: "list", data, has_more, url}
//
// The first four are the SDK example's API, as its server answers them:
//
//   - page_number: a page past the end is 200 with "data": []; no match
//     gives "total_pages": 0.
//   - offset: an offset past the end gives an empty data.
//   - next_page_url: next_page_url is the absolute URL of the next page on
//     the request's own host (with order_by, order_type, per_page, page and
//     any updated_since), null on the last page.
//   - keyset: records in ascending updatedAt, 50 a page. scroll_param is
//     the base64 (standard, padded) of the last record's updatedAt; the next
//     page holds the records updated strictly later, so records that share
//     the boundary updatedAt are skipped, exactly as the SDK example's server does.
//     It is null when the page reaches the last record. Both scroll_param
//     and updated_since, or a token that does not decode to a timestamp:
//     400.
//
// The other three serve the other pagination styles, without the keyset
// endpoint's loss at ties:
//
//   - next_token: records in ascending (updatedAt, id); next_token is an
//     opaque token for the position after the last record served, null on
//     the last page; a token that does not decode: 400. A record updated
//     while a client pages through moves past the token and is served
//     again later; none is skipped.
//   - link_header: page-number paging like page_number, but the body is a
//     bare JSON array and the pagination is in an RFC 8288 Link header,
//     GitHub style: <url>; rel="next" (absent on the last page), "last",
//     "first" and, after page 1, "prev". X-Total-Count holds the total.
//   - starting_after: Stripe style, records in ascending (createdAt, id), a
//     key that updates never change; has_more says whether more follow, and
//     the next page is asked for with starting_after=<id of the last
//     record>. An id that is not a record's: 400.
//
// Four more serve shapes real servers use, each described with its path
// constant: [PathJSONServer] and [PathJSONServerV1] answer as json-server
// 0.17 and 1.x do (_page, _limit, _start, _per_page; bare arrays,
// X-Total-Count, numeric next pages, pages past the end clamped), and
// [PathLinkRelative] and [PathIDs] are page-number listings with relative
// Link URLs and with bare string items.
//
// Two related resources serve connectors of several streams:
//
//	path                   parameters                        200 body
//	---------------------  --------------------------------  --------------------------------------------
//	/users/{id}/orders     per_page (10), page (1),          {data, page, page_size, total_pages,
//	                       updated_since                      total_items}
//	/events                limit (10), next_token,           {data, next_token}
//	                       created_since
//
// They page like the endpoints above:
//
//   - orders: a user's orders ({id, userId, status, amount, currency,
//     createdAt, updatedAt}, [Order]) by page number, in ascending
//     (updatedAt, id). How many a user has follows from its id and the
//     Seed: a quarter have none, one in fifty have several pages; or
//     exactly [Config].OrdersPerUser. An unknown user id: 404.
//   - events: an append-only log ({id, type, userId, createdAt},
//     [Event]) of [Config].Events entries in ascending createdAt, by an
//     opaque next_token, null on the last page; created_since is
//     inclusive.
//
// Two more serve incremental syncs of other shapes:
//
//	path                        request                            200 body
//	--------------------------  ---------------------------------  ---------------------------------------------
//	/search/users (POST only)   {"filter": {"updated_since",       {results, total, paging: {next: {after}}}
//	                            "updated_until"}, "limit", "after"}
//	/pagination/newest_first    per_page (10), page (1)            {data, page, page_size}
//
// In detail:
//
//   - search: HubSpot style, the cursor and the window in the JSON body;
//     records in ascending (updatedAt, id), updated_since inclusive,
//     updated_until exclusive; "paging" is left out on the last page; an
//     unknown field: 400.
//   - newest_first: every record by descending (updatedAt, id), with no
//     filter, like an activity feed: an incremental client stops once the
//     records fall below its mark.
//
// [Server.InsertLate] adds records whose updatedAt lies behind the latest
// one, as APIs whose updated_at becomes visible late do: a sync that
// starts at its last mark misses them unless it looks back.
//
// Two modes make the listings behave like other servers: with
// [Config].ClampPages, a page or offset past the last record is answered
// with the last page again (as json-server 1.x does) instead of an empty
// one, the body still naming the page or offset asked for; with
// [Config].NoTotals, no response carries a total (total_pages,
// total_items, total, X-Total-Count, the Link header's "last").
//
// Records look like the SDK example's: {id (a UUID), name, email, address (two
// lines), company, job, createdAt, updatedAt}, about 300 bytes of JSON,
// timestamps RFC 3339 seconds in UTC. [User] decodes them.
//
// [PathQueryLocator] is a Salesforce-style query read through query
// locators (nextRecordsUrl) that expire ([Config].LocatorTTL,
// [Server.ExpireLocators]) with 400 INVALID_QUERY_LOCATOR, and that refuse
// the query's filter and batch size sent again with them.
//
// [PathToken] is an OAuth 2.0 token endpoint ([Config].OAuth), hostile as
// some identity providers are: its refusals echo the credentials they got,
// and so do the 401s of listings that want its tokens.
//
// Other paths get 404 and other methods 405, with an {"error": ...} body.
//
// # Dataset
//
// The dataset is a function of [Config].Records, Seed, TieRate and
// TieGroups: the same Config gives the same bytes, on every machine.
// updatedAt values spread over 2022 to 2024; TieRate makes some records
// share an updatedAt, and TieGroups places longer ties, larger than a page
// if need be. A record's keys take 40 bytes and its text is derived from
// its number. Datasets up to [Config].PreEncode records (250,000 by
// default) also keep every record's JSON, encoded once, so that a page is
// served by copying bytes; larger ones encode records as they are served.
// A million records take about 45 MB and build in a fraction of a second.
// Lookups are binary searches; a request costs time in its page size, not
// in the dataset's size, except the first request in createdAt order after
// a change (which sorts) and the first createdAt-ordered request for each
// updated_since (which filters).
//
// [Server.Update] and [Server.Insert] change the dataset between requests;
// [Config].Mutate does it while clients page. Changed records get one new
// updatedAt, later than all others, so they move to the end of the
// updatedAt order.
//
// # Faults
//
// Config fields inject faults, decided per request by a PCG seeded with the
// Seed and the request's number, so a sequential client meets the same
// faults in every run: Latency and LatencyJitter; ErrorRate (statuses from
// ErrorCodes); ThrottleRate (bursts of ThrottleBurst 429s with
// Retry-After); DropRate (the connection is closed part way through the
// body, whose Content-Length promised more); SlowRate (the body trickles out
// in SlowChunk bytes every SlowDelay); PageSizeCap (pages smaller than
// asked, reported honestly). [Server.Stats] counts requests and faults.
package mockapi
