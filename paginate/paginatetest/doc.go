// Package paginatetest helps connector authors test paginators: a scripted
// fake API that answers requests from a list of responses and injects
// faults per request, and a conformance suite that runs any paginator
// through the situations that break real syncs (a crash after every page, a
// fault at every request, a cancellation at every page, a server that loops,
// and runs after a stop by every reason while the source changes) and
// checks that every record arrives, once per key, every time.
//
// The suite checks each sync against an oracle, the records a full sync
// must deliver, which the handler knows: a scripted [API] with ItemsPath
// set, or a mockapi.Server, is an [Oracle]. A test of a paginator over an
// API the author knows looks like:
//
//	api := &paginatetest.API{
//		ItemsPath: "data", // where the records are in each body: the API knows its records
//		Responses: []paginatetest.Response{
//			{Path: "/users", Query: "page=1", Body: `{"data": [{"id": "1"}, {"id": "2"}], "total_pages": 2}`},
//			{Path: "/users", Query: "page=2", Body: `{"data": [{"id": "3"}], "total_pages": 2}`},
//		},
//	}
//	paginatetest.Suite[User]{
//		Handler: api,
//		New: func(baseURL string, c *http.Client) paginate.Paginator[User] {
//			return &strategies.PageNumber[User]{
//				Request:  strategies.Request{URL: baseURL + "/users", Client: c},
//				Response: strategies.Shape[User]{ItemsPath: "data", TotalPagesPath: "total_pages"},
//			}
//		},
//		Key: func(u User) string { return u.ID },
//	}.Run(t)
//
// A paginator that skips a record on every page, never asks for the first
// page or stops a page early then fails with where the missing records are
// in the listing. When the handler is not an Oracle (a recording, or a
// handler wrapped in another), set Want to the records instead; when no
// oracle can exist, NoOracle must say why, and the suite reports what it
// could not check. Set the Suite's Options as the connector sets them,
// HighWater included, so that the syncs the suite runs after a stop are the
// incremental syncs the connector will run.
package paginatetest
