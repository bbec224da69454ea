// Package paginatetest helps connector authors test paginators: a scripted
// fake API that answers requests from a list of responses and injects
// faults per request, and a conformance suite that runs any paginator
// through the situations that break real syncs (a crash after every page, a
// fault at every request, a cancellation at every page, a server that loops)
// and checks that every record arrives, once per key, every time.
//
// A test of a paginator over an API the author knows looks like:
//
//	paginatetest.Suite[User]{
//		Handler: myFakeOrRecordedAPI,
//		New: func(baseURL string, c *http.Client) paginate.Paginator[User] {
//			return &strategies.PageNumber[User]{HTTP: strategies.HTTP{URL: baseURL + "/users", Client: c}}
//		},
//		Key: func(u User) string { return u.ID },
//	}.Run(t)
package paginatetest
